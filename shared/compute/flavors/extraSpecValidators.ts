// The flavor extra specs Nova knows (nova/api/validation/extra_specs/*.py, registered through the
// nova.api.extra_spec_validators entry points) and how it checks them from 2.86 (validators.py, base.py).
// The first half is a data table transcribed from upstream: each spec's name (a template whose {param}s
// are the regexes named in `params`), and its value's rule. The second half is Jacket's checker over it.
//
// Upstream's rules, kept here:
// - a name the table knows exactly, else the first templated name it fullmatches, is checked by that
//   spec's value rule;
// - otherwise a name with a namespace (the part before the first ':') that some spec's name has (its
//   regex: `trait1:FOO` and `traits:FOO` are in the trait{group} namespace) is 400 "does not appear to be
//   a valid extra spec"; a name in any other namespace, or without one, passes (e.g. `azure:vm_size`);
// - values are strings (a JSON number is checked as its text): int rules take what Python's int() takes
//   (spaces around, a sign, digits with single underscores) against min/max; bool rules oslo's
//   bool_from_string(strict=True) spellings; str rules a pattern (fullmatch), else an enum.
import { STANDARD_CLASSES } from '../../placement/api';

/** A spec value's rule, as base.ExtraSpecValidator's `value`. */
export type SpecValueRule = { type: 'str'; pattern?: string; enum?: readonly string[] } | { type: 'int'; min?: number; max?: number } | { type: 'bool' };

/** One known spec: its name template and value rule; a param is a regex, or a list of literal names (one spec each upstream). */
export interface KnownSpec {
  name: string;
  params?: Record<string, string | readonly string[]>;
  value: SpecValueRule;
}

const int = (min?: number, max?: number): SpecValueRule => ({ type: 'int', ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) });
const bool: SpecValueRule = { type: 'bool' };
const str = (rule: { pattern?: string; enum?: readonly string[] } = {}): SpecValueRule => ({ type: 'str', ...rule });

/** hw.py: a CPU set such as `0-3,^2` (cpu_dedicated_mask, numa_cpus.N; cpu_realtime_mask's differs only by its group). */
const CPU_SET = String.raw`\^?\d+((-\d+)?(,\^?\d+(-\d+)?)?)*`;
/** The granular request group suffix of resources{group} and trait{group}. */
const GROUP = '([a-zA-Z0-9_-]{1,64})?';

/**
 * os-traits' standard traits (os_traits.get_traits(), release 3.9.0; Nova requires >= 3.7.0): upstream
 * registers one `trait{group}:<TRAIT>` spec for each.
 */
const OS_TRAITS: readonly string[] = `
COMPUTE_DEVICE_TAGGING COMPUTE_NODE COMPUTE_TRUSTED_CERTS COMPUTE_SAME_HOST_COLD_MIGRATE COMPUTE_RESCUE_BFV
COMPUTE_ACCELERATORS COMPUTE_SOCKET_PCI_NUMA_AFFINITY COMPUTE_REMOTE_MANAGED_PORTS COMPUTE_MEM_BACKING_FILE
COMPUTE_MANAGED_PCI_DEVICE COMPUTE_ADDRESS_SPACE_PASSTHROUGH COMPUTE_ADDRESS_SPACE_EMULATED COMPUTE_SHARE_LOCAL_FS
COMPUTE_ARCH_AARCH64 COMPUTE_ARCH_PPC64LE COMPUTE_ARCH_MIPSEL COMPUTE_ARCH_S390X COMPUTE_ARCH_RISCV64
COMPUTE_ARCH_X86_64 COMPUTE_CONFIG_DRIVE_REGENERATION COMPUTE_EPHEMERAL_ENCRYPTION
COMPUTE_EPHEMERAL_ENCRYPTION_PLAIN COMPUTE_EPHEMERAL_ENCRYPTION_LUKS COMPUTE_EPHEMERAL_ENCRYPTION_LUKSV2
COMPUTE_FIRMWARE_BIOS COMPUTE_FIRMWARE_UEFI COMPUTE_GRAPHICS_MODEL_BOCHS COMPUTE_GRAPHICS_MODEL_CIRRUS
COMPUTE_GRAPHICS_MODEL_GOP COMPUTE_GRAPHICS_MODEL_NONE COMPUTE_GRAPHICS_MODEL_QXL COMPUTE_GRAPHICS_MODEL_VGA
COMPUTE_GRAPHICS_MODEL_VIRTIO COMPUTE_GRAPHICS_MODEL_VMVGA COMPUTE_GRAPHICS_MODEL_XEN COMPUTE_IMAGE_TYPE_AKI
COMPUTE_IMAGE_TYPE_AMI COMPUTE_IMAGE_TYPE_ARI COMPUTE_IMAGE_TYPE_ISO COMPUTE_IMAGE_TYPE_QCOW2 COMPUTE_IMAGE_TYPE_RAW
COMPUTE_IMAGE_TYPE_VDI COMPUTE_IMAGE_TYPE_VHD COMPUTE_IMAGE_TYPE_VHDX COMPUTE_IMAGE_TYPE_VMDK
COMPUTE_IMAGE_TYPE_PLOOP COMPUTE_MIGRATE_AUTO_CONVERGE COMPUTE_MIGRATE_POST_COPY COMPUTE_NET_ATTACH_INTERFACE
COMPUTE_NET_ATTACH_INTERFACE_WITH_TAG COMPUTE_NET_VIRTIO_PACKED COMPUTE_NET_VIF_MODEL_E1000
COMPUTE_NET_VIF_MODEL_E1000E COMPUTE_NET_VIF_MODEL_LAN9118 COMPUTE_NET_VIF_MODEL_NETFRONT
COMPUTE_NET_VIF_MODEL_NE2K_PCI COMPUTE_NET_VIF_MODEL_PCNET COMPUTE_NET_VIF_MODEL_RTL8139
COMPUTE_NET_VIF_MODEL_SPAPR_VLAN COMPUTE_NET_VIF_MODEL_SRIOV COMPUTE_NET_VIF_MODEL_VIRTIO
COMPUTE_NET_VIF_MODEL_VMXNET COMPUTE_NET_VIF_MODEL_VMXNET3 COMPUTE_NET_VIF_MODEL_IGB COMPUTE_SECURITY_TPM_1_2
COMPUTE_SECURITY_TPM_2_0 COMPUTE_SECURITY_TPM_TIS COMPUTE_SECURITY_TPM_CRB COMPUTE_SECURITY_TPM_SECRET_SECURITY_USER
COMPUTE_SECURITY_TPM_SECRET_SECURITY_HOST COMPUTE_SECURITY_TPM_SECRET_SECURITY_DEPLOYMENT
COMPUTE_SECURITY_UEFI_SECURE_BOOT COMPUTE_SECURITY_STATELESS_FIRMWARE COMPUTE_SOUND_MODEL_SB16
COMPUTE_SOUND_MODEL_ES1370 COMPUTE_SOUND_MODEL_PCSPK COMPUTE_SOUND_MODEL_AC97 COMPUTE_SOUND_MODEL_ICH6
COMPUTE_SOUND_MODEL_ICH9 COMPUTE_SOUND_MODEL_USB COMPUTE_SOUND_MODEL_VIRTIO COMPUTE_STATUS_DISABLED
COMPUTE_STORAGE_BUS_FDC COMPUTE_STORAGE_BUS_IDE COMPUTE_STORAGE_BUS_LXC COMPUTE_STORAGE_BUS_SATA
COMPUTE_STORAGE_BUS_SCSI COMPUTE_STORAGE_BUS_USB COMPUTE_STORAGE_BUS_VIRTIO COMPUTE_STORAGE_BUS_UML
COMPUTE_STORAGE_BUS_XEN COMPUTE_STORAGE_VIRTIO_FS COMPUTE_USB_MODEL_QEMU_XHCI COMPUTE_USB_MODEL_NEC_XHCI
COMPUTE_VIOMMU_MODEL_INTEL COMPUTE_VIOMMU_MODEL_SMMUV3 COMPUTE_VIOMMU_MODEL_VIRTIO COMPUTE_VIOMMU_MODEL_AUTO
COMPUTE_VOLUME_ATTACH COMPUTE_VOLUME_ATTACH_WITH_TAG COMPUTE_VOLUME_EXTEND COMPUTE_VOLUME_MULTI_ATTACH HW_ARCH_ALPHA
HW_ARCH_ARMV6 HW_ARCH_ARMV7 HW_ARCH_ARMV7B HW_ARCH_AARCH64 HW_ARCH_CRIS HW_ARCH_I686 HW_ARCH_IA64 HW_ARCH_LM32
HW_ARCH_M68K HW_ARCH_MICROBLAZE HW_ARCH_MICROBLAZEEL HW_ARCH_MIPS HW_ARCH_MIPSEL HW_ARCH_MIPS64 HW_ARCH_MIPS64EL
HW_ARCH_OPENRISC HW_ARCH_PARISC HW_ARCH_PARISC64 HW_ARCH_PPC HW_ARCH_PPCLE HW_ARCH_PPC64 HW_ARCH_PPC64LE
HW_ARCH_PPCEMB HW_ARCH_S390 HW_ARCH_S390X HW_ARCH_SH4 HW_ARCH_SH4EB HW_ARCH_SPARC HW_ARCH_SPARC64 HW_ARCH_UNICORE32
HW_ARCH_X86_64 HW_ARCH_XTENSA HW_ARCH_XTENSAEB HW_CPU_HYPERTHREADING HW_CPU_AARCH64_FP HW_CPU_AARCH64_ASIMD
HW_CPU_AARCH64_EVTSTRM HW_CPU_AARCH64_AES HW_CPU_AARCH64_PMULL HW_CPU_AARCH64_SHA1 HW_CPU_AARCH64_SHA2
HW_CPU_AARCH64_CRC32 HW_CPU_AARCH64_FPHP HW_CPU_AARCH64_ASIMDHP HW_CPU_AARCH64_ASIMDRDM HW_CPU_AARCH64_ATOMICS
HW_CPU_AARCH64_JSCVT HW_CPU_AARCH64_FCMA HW_CPU_AARCH64_LRCPC HW_CPU_AARCH64_DCPOP HW_CPU_AARCH64_SHA3
HW_CPU_AARCH64_SM3 HW_CPU_AARCH64_SM4 HW_CPU_AARCH64_ASIMDDP HW_CPU_AARCH64_SHA512 HW_CPU_AARCH64_SVE
HW_CPU_AARCH64_CPUID HW_CPU_AMD_SEV HW_CPU_PPC64LE_POWER8 HW_CPU_PPC64LE_POWER9 HW_CPU_X86_AVX HW_CPU_X86_AVX2
HW_CPU_X86_CLMUL HW_CPU_X86_FMA3 HW_CPU_X86_FMA4 HW_CPU_X86_F16C HW_CPU_X86_MMX HW_CPU_X86_SSE HW_CPU_X86_SSE2
HW_CPU_X86_SSE3 HW_CPU_X86_SSSE3 HW_CPU_X86_SSE41 HW_CPU_X86_SSE42 HW_CPU_X86_SSE4A HW_CPU_X86_XOP HW_CPU_X86_3DNOW
HW_CPU_X86_AVX512F HW_CPU_X86_AVX512CD HW_CPU_X86_AVX512PF HW_CPU_X86_AVX512ER HW_CPU_X86_AVX512VL
HW_CPU_X86_AVX512BW HW_CPU_X86_AVX512DQ HW_CPU_X86_AVX512VNNI HW_CPU_X86_AVX512VBMI HW_CPU_X86_AVX512IFMA
HW_CPU_X86_AVX512VBMI2 HW_CPU_X86_AVX512BITALG HW_CPU_X86_AVX512VAES HW_CPU_X86_AVX512GFNI
HW_CPU_X86_AVX512VPCLMULQDQ HW_CPU_X86_AVX512VPOPCNTDQ HW_CPU_X86_ABM HW_CPU_X86_BMI HW_CPU_X86_BMI2 HW_CPU_X86_TBM
HW_CPU_X86_AESNI HW_CPU_X86_SHA HW_CPU_X86_MPX HW_CPU_X86_SGX HW_CPU_X86_TSX HW_CPU_X86_ASF HW_CPU_X86_VMX
HW_CPU_X86_SVM HW_CPU_X86_PDPE1GB HW_CPU_X86_STIBP HW_CPU_X86_AMXBF16 HW_CPU_X86_AMXINT8 HW_CPU_X86_AMXTILE
HW_CPU_X86_AMD_SEV HW_CPU_X86_AMD_SEV_ES HW_CPU_X86_AMD_SEV_SNP HW_CPU_X86_AMD_SVM HW_CPU_X86_AMD_IBPB
HW_CPU_X86_AMD_NO_SSB HW_CPU_X86_AMD_SSBD HW_CPU_X86_AMD_VIRT_SSBD HW_CPU_X86_INTEL_MD_CLEAR HW_CPU_X86_INTEL_PCID
HW_CPU_X86_INTEL_SPEC_CTRL HW_CPU_X86_INTEL_SSBD HW_CPU_X86_INTEL_VMX HW_CPU_X86_INTEL_TDX HW_GPU_API_DIRECTX_V10
HW_GPU_API_DIRECTX_V11 HW_GPU_API_DIRECTX_V12 HW_GPU_API_DIRECT2D HW_GPU_API_DIRECT3D_V6_0 HW_GPU_API_DIRECT3D_V7_0
HW_GPU_API_DIRECT3D_V8_0 HW_GPU_API_DIRECT3D_V8_1 HW_GPU_API_DIRECT3D_V9_0 HW_GPU_API_DIRECT3D_V9_0B
HW_GPU_API_DIRECT3D_V9_0C HW_GPU_API_DIRECT3D_V9_0L HW_GPU_API_DIRECT3D_V10_0 HW_GPU_API_DIRECT3D_V10_1
HW_GPU_API_DIRECT3D_V11_0 HW_GPU_API_DIRECT3D_V11_1 HW_GPU_API_DIRECT3D_V11_2 HW_GPU_API_DIRECT3D_V11_3
HW_GPU_API_DIRECT3D_V12_0 HW_GPU_API_VULKAN HW_GPU_API_DXVA HW_GPU_API_OPENCL_V1_0 HW_GPU_API_OPENCL_V1_1
HW_GPU_API_OPENCL_V1_2 HW_GPU_API_OPENCL_V2_0 HW_GPU_API_OPENCL_V2_1 HW_GPU_API_OPENCL_V2_2 HW_GPU_API_OPENGL_V1_1
HW_GPU_API_OPENGL_V1_2 HW_GPU_API_OPENGL_V1_3 HW_GPU_API_OPENGL_V1_4 HW_GPU_API_OPENGL_V1_5 HW_GPU_API_OPENGL_V2_0
HW_GPU_API_OPENGL_V2_1 HW_GPU_API_OPENGL_V3_0 HW_GPU_API_OPENGL_V3_1 HW_GPU_API_OPENGL_V3_2 HW_GPU_API_OPENGL_V3_3
HW_GPU_API_OPENGL_V4_0 HW_GPU_API_OPENGL_V4_1 HW_GPU_API_OPENGL_V4_2 HW_GPU_API_OPENGL_V4_3 HW_GPU_API_OPENGL_V4_4
HW_GPU_API_OPENGL_V4_5 HW_GPU_CUDA_COMPUTE_CAPABILITY_V1_0 HW_GPU_CUDA_COMPUTE_CAPABILITY_V1_1
HW_GPU_CUDA_COMPUTE_CAPABILITY_V1_2 HW_GPU_CUDA_COMPUTE_CAPABILITY_V1_3 HW_GPU_CUDA_COMPUTE_CAPABILITY_V2_0
HW_GPU_CUDA_COMPUTE_CAPABILITY_V2_1 HW_GPU_CUDA_COMPUTE_CAPABILITY_V3_0 HW_GPU_CUDA_COMPUTE_CAPABILITY_V3_2
HW_GPU_CUDA_COMPUTE_CAPABILITY_V3_5 HW_GPU_CUDA_COMPUTE_CAPABILITY_V3_7 HW_GPU_CUDA_COMPUTE_CAPABILITY_V5_0
HW_GPU_CUDA_COMPUTE_CAPABILITY_V5_2 HW_GPU_CUDA_COMPUTE_CAPABILITY_V5_3 HW_GPU_CUDA_COMPUTE_CAPABILITY_V6_0
HW_GPU_CUDA_COMPUTE_CAPABILITY_V6_1 HW_GPU_CUDA_COMPUTE_CAPABILITY_V6_2 HW_GPU_CUDA_COMPUTE_CAPABILITY_V7_0
HW_GPU_CUDA_COMPUTE_CAPABILITY_V7_1 HW_GPU_CUDA_COMPUTE_CAPABILITY_V7_2 HW_GPU_CUDA_SDK_V6_5 HW_GPU_CUDA_SDK_V7_5
HW_GPU_CUDA_SDK_V8_0 HW_GPU_CUDA_SDK_V9_0 HW_GPU_CUDA_SDK_V9_1 HW_GPU_CUDA_SDK_V9_2 HW_GPU_CUDA_SDK_V10_0
HW_GPU_MAX_DISPLAY_HEADS_1 HW_GPU_MAX_DISPLAY_HEADS_2 HW_GPU_MAX_DISPLAY_HEADS_4 HW_GPU_MAX_DISPLAY_HEADS_6
HW_GPU_MAX_DISPLAY_HEADS_8 HW_GPU_RESOLUTION_W320H240 HW_GPU_RESOLUTION_W640H480 HW_GPU_RESOLUTION_W800H600
HW_GPU_RESOLUTION_W1024H600 HW_GPU_RESOLUTION_W1024H768 HW_GPU_RESOLUTION_W1152H864 HW_GPU_RESOLUTION_W1280H720
HW_GPU_RESOLUTION_W1280H768 HW_GPU_RESOLUTION_W1280H800 HW_GPU_RESOLUTION_W1280H1024 HW_GPU_RESOLUTION_W1360H768
HW_GPU_RESOLUTION_W1366H768 HW_GPU_RESOLUTION_W1440H900 HW_GPU_RESOLUTION_W1600H900 HW_GPU_RESOLUTION_W1600H1200
HW_GPU_RESOLUTION_W1680H1050 HW_GPU_RESOLUTION_W1920H1080 HW_GPU_RESOLUTION_W1920H1200 HW_GPU_RESOLUTION_W2560H1440
HW_GPU_RESOLUTION_W2560H1600 HW_GPU_RESOLUTION_W3840H2160 HW_GPU_RESOLUTION_W7680H4320 HW_NIC_SRIOV
HW_NIC_MULTIQUEUE HW_NIC_VMDQ HW_NIC_PROGRAMMABLE_PIPELINE HW_NIC_ACCEL_SSL HW_NIC_ACCEL_IPSEC HW_NIC_ACCEL_TLS
HW_NIC_ACCEL_DIFFIEH HW_NIC_ACCEL_RSA HW_NIC_ACCEL_ECC HW_NIC_ACCEL_LZS HW_NIC_ACCEL_DEFLATE HW_NIC_DCB_PFC
HW_NIC_DCB_ETS HW_NIC_DCB_QCN HW_NIC_OFFLOAD_TSO HW_NIC_OFFLOAD_GRO HW_NIC_OFFLOAD_GSO HW_NIC_OFFLOAD_UFO
HW_NIC_OFFLOAD_LRO HW_NIC_OFFLOAD_LSO HW_NIC_OFFLOAD_TCS HW_NIC_OFFLOAD_UCS HW_NIC_OFFLOAD_SCS HW_NIC_OFFLOAD_L2CRC
HW_NIC_OFFLOAD_FDF HW_NIC_OFFLOAD_RXVLAN HW_NIC_OFFLOAD_TXVLAN HW_NIC_OFFLOAD_VXLAN HW_NIC_OFFLOAD_GRE
HW_NIC_OFFLOAD_GENEVE HW_NIC_OFFLOAD_TXUDP HW_NIC_OFFLOAD_QINQ HW_NIC_OFFLOAD_RDMA HW_NIC_OFFLOAD_RXHASH
HW_NIC_OFFLOAD_RX HW_NIC_OFFLOAD_TX HW_NIC_OFFLOAD_SG HW_NIC_OFFLOAD_SWITCHDEV HW_NIC_SRIOV_QOS_TX
HW_NIC_SRIOV_QOS_RX HW_NIC_SRIOV_MULTIQUEUE HW_NIC_SRIOV_TRUSTED HW_NUMA_ROOT HW_NVME_CES HW_NVME_BES HW_NVME_WZS
HW_PCI_LIVE_MIGRATABLE HW_PCI_ONE_TIME_USE MISC_SHARES_VIA_AGGREGATE OWNER_CYBORG OWNER_NOVA STORAGE_DISK_HDD
STORAGE_DISK_SSD
`
  .trim()
  .split(/\s+/);

/** capabilities.py: the host state's plain capabilities (one spec each, any value). */
const CAPABILITIES = [
  ...['id', 'uuid', 'service_id', 'host', 'vcpus', 'memory_mb', 'local_gb', 'vcpus_used', 'memory_mb_used', 'local_gb_used'],
  ...['hypervisor_type', 'hypervisor_version', 'hypervisor_hostname', 'free_ram_mb', 'free_disk_gb', 'current_workload', 'running_vms'],
  ...['disk_available_least', 'host_ip', 'mapped', 'cpu_allocation_ratio', 'ram_allocation_ratio', 'disk_allocation_ratio'],
  ...['total_usable_ram_mb', 'total_usable_disk_gb', 'disk_mb_used', 'free_disk_mb', 'vcpus_total', 'num_instances'],
  ...['num_io_ops', 'failed_builds', 'aggregates', 'cell_uuid', 'updated'],
];
/** capabilities.py: the nested ones, which may name a path below them (`capabilities:stats:foo`). */
const NESTED_CAPABILITIES = ['cpu_info', 'metrics', 'stats', 'numa_topology', 'supported_hv_specs', 'pci_device_pools', 'nodename', 'pci_stats', 'supported_instances', 'limits', 'instances'];

/** quota.py: VMware's CPU, memory, disk IO and VIF allocation specs. */
const vmwareQuota = (key: string): KnownSpec[] => [
  { name: `quota:${key}_limit`, value: int(0) },
  { name: `quota:${key}_reservation`, value: int() },
  { name: `quota:${key}_shares_level`, value: str({ enum: ['custom', 'high', 'normal', 'low'] }) },
  { name: `quota:${key}_shares_share`, value: int(0) },
];

/** Every spec Nova validates, in its registration order (the entry points', then each module's). */
export const KNOWN_EXTRA_SPECS: readonly KnownSpec[] = [
  // accel.py
  { name: 'accel:device_profile', value: str() },
  // aggregate_instance_extra_specs.py: any key, any value (AggregateInstanceExtraSpecsFilter's operators)
  { name: 'aggregate_instance_extra_specs:{key}', params: { key: '.+' }, value: str() },
  // capabilities.py (ComputeCapabilitiesFilter)
  ...CAPABILITIES.map((c): KnownSpec => ({ name: `capabilities:${c}`, value: str() })),
  ...NESTED_CAPABILITIES.map((c): KnownSpec => ({ name: `capabilities:${c}{filter}`, params: { filter: String.raw`(:\w+)*` }, value: str() })),
  // hw.py
  { name: 'hw:cpu_realtime', value: bool },
  { name: 'hw:cpu_realtime_mask', value: str({ pattern: String.raw`(\^)?\d+((-\d+)?(,\^?\d+(-\d+)?)?)*` }) },
  { name: 'hw:hide_hypervisor_id', value: bool },
  { name: 'hw:cpu_policy', value: str({ enum: ['dedicated', 'shared', 'mixed'] }) },
  { name: 'hw:cpu_thread_policy', value: str({ enum: ['prefer', 'isolate', 'require'] }) },
  { name: 'hw:emulator_threads_policy', value: str({ enum: ['isolate', 'share'] }) },
  { name: 'hw:cpu_dedicated_mask', value: str({ pattern: CPU_SET }) },
  { name: 'hw:mem_page_size', value: str({ pattern: String.raw`(large|small|any|\d+([kKMGT]i?)?(b|bit|B)?)` }) },
  { name: 'hw:locked_memory', value: bool },
  { name: 'hw:numa_nodes', value: int(1) },
  { name: 'hw:numa_cpus.{num}', params: { num: String.raw`\d+` }, value: str({ pattern: CPU_SET }) },
  { name: 'hw:numa_mem.{num}', params: { num: String.raw`\d+` }, value: int(1) },
  { name: 'hw:pci_numa_affinity_policy', value: str({ enum: ['required', 'preferred', 'legacy', 'socket'] }) },
  { name: 'hw:cpu_sockets', value: int(1) },
  { name: 'hw:cpu_cores', value: int(1) },
  { name: 'hw:cpu_threads', value: int(1) },
  { name: 'hw:cpu_max_sockets', value: int(1) },
  { name: 'hw:cpu_max_cores', value: int(1) },
  { name: 'hw:cpu_max_threads', value: int(1) },
  { name: 'hw:boot_menu', value: bool },
  { name: 'hw:vif_multiqueue_enabled', value: bool },
  { name: 'hw:mem_encryption', value: bool },
  { name: 'hw:mem_encryption_model', value: str({ enum: ['amd-sev', 'amd-sev-es', 'amd-sev-snp'] }) },
  { name: 'hw:pmem', value: str({ pattern: '([a-zA-Z0-9_]+(,)?)+' }) },
  { name: 'hw:pmu', value: bool },
  { name: 'hw:serial_port_count', value: int(0) },
  { name: 'hw:tpm_model', value: str({ enum: ['tpm-tis', 'tpm-crb'] }) },
  { name: 'hw:tpm_version', value: str({ enum: ['1.2', '2.0'] }) },
  { name: 'hw:tpm_secret_security', value: str({ enum: ['user', 'host', 'deployment'] }) },
  { name: 'hw:watchdog_action', value: str({ enum: ['none', 'pause', 'poweroff', 'reset', 'disabled'] }) },
  { name: 'hw:viommu_model', value: str({ enum: ['intel', 'smmuv3', 'virtio', 'auto'] }) },
  { name: 'hw:virtio_packed_ring', value: bool },
  // fields.SoundModelType.ALL, USBControllerModelType.ALL
  { name: 'hw:sound_model', value: str({ enum: ['sb16', 'es1370', 'pcspk', 'ac97', 'ich6', 'ich9', 'usb', 'virtio'] }) },
  { name: 'hw:usb_model', value: str({ enum: ['none', 'nec-xhci', 'qemu-xhci'] }) },
  { name: 'hw:redirected_usb_ports', value: int(0, 15) },
  { name: 'hw:ephemeral_encryption', value: bool },
  // fields.BlockDeviceEncryptionFormatType.ALL
  { name: 'hw:ephemeral_encryption_format', value: str({ enum: ['plain', 'luks', 'luksv2'] }) },
  // hw_rng.py, hw_video.py
  { name: 'hw_rng:allowed', value: bool },
  { name: 'hw_rng:rate_bytes', value: int(0) },
  { name: 'hw_rng:rate_period', value: int(0) },
  { name: 'hw_video:ram_max_mb', value: int(0) },
  // null.py: no namespace, so only these two names are checked among un-namespaced specs
  { name: 'hide_hypervisor_id', value: bool },
  { name: 'group_policy', value: str({ enum: ['isolate', 'none'] }) },
  // os.py
  { name: 'os:secure_boot', value: str({ enum: ['disabled', 'required'] }) },
  // pci_passthrough.py: one or more `alias:count`, comma-separated
  { name: 'pci_passthrough:alias', value: str({ pattern: String.raw`[^:]+:\d+(?:\s*,\s*[^:]+:\d+)*` }) },
  // quota.py: VMware's, then libvirt's CPU, disk and VIF quotas
  ...['cpu', 'memory', 'disk_io', 'vif'].flatMap(vmwareQuota),
  { name: 'quota:cpu_shares', value: int(0) },
  { name: 'quota:cpu_period', value: int(0) },
  { name: 'quota:cpu_quota', value: int() },
  ...['read', 'write', 'total'].flatMap((stat) => ['bytes', 'iops'].map((metric): KnownSpec => ({ name: `quota:disk_${stat}_${metric}_sec`, value: int(0) }))),
  ...['inbound', 'outbound'].flatMap((stat) => ['average', 'peak', 'burst'].map((metric): KnownSpec => ({ name: `quota:vif_${stat}_${metric}`, value: int(0) }))),
  // resources.py: os-resource-classes' standard classes, then custom ones
  { name: 'resources{group}:{resource_class}', params: { group: GROUP, resource_class: STANDARD_CLASSES }, value: int() },
  { name: 'resources{group}:CUSTOM_{resource}', params: { group: GROUP, resource: '[A-Z0-9_]+' }, value: int() },
  // traits.py: os-traits' standard traits, then custom ones
  { name: 'trait{group}:{trait}', params: { group: GROUP, trait: OS_TRAITS }, value: str({ enum: ['required', 'forbidden'] }) },
  { name: 'trait{group}:CUSTOM_{trait}', params: { group: GROUP, trait: '[A-Z0-9_]+' }, value: str({ enum: ['required', 'forbidden'] }) },
  // vmware.py
  { name: 'vmware:hw_version', value: str() },
  { name: 'vmware:storage_policy', value: str() },
];

// ---- Jacket's checker over the table ----

/**
 * Nova's value patterns as written (the refusal quotes them), and for four of them a pattern of the same
 * language without nested quantifiers, which is what is run: upstream's, fullmatched by a backtracking
 * engine, take exponential time on a long near-miss (a 255-character value could hold the event loop).
 * - CPU sets: `G*` with G = `(-\d+)?(,\^?\d+(-\d+)?)?` is any sequence of `-\d+` and `,\^?\d+` tokens;
 * - hw:pmem: words each with an optional comma are word characters and single commas, not leading;
 * - pci_passthrough:alias: `\s*,\s*[^:]+` is `\s*,[^:]+` (`[^:]+` takes the spaces `\s*` would).
 */
const RUN_AS: Record<string, string> = {
  [CPU_SET]: String.raw`\^?\d+(?:-\d+|,\^?\d+)*`,
  [String.raw`(\^)?\d+((-\d+)?(,\^?\d+(-\d+)?)?)*`]: String.raw`\^?\d+(?:-\d+|,\^?\d+)*`,
  ['([a-zA-Z0-9_]+(,)?)+']: '[a-zA-Z0-9_]+(?:,[a-zA-Z0-9_]+)*,?',
  [String.raw`[^:]+:\d+(?:\s*,\s*[^:]+:\d+)*`]: String.raw`[^:]+:\d+(?:\s*,[^:]+:\d+)*`,
};

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The name's regex as base.py builds it: the template's literal text is regex text too ('.' matches any). */
function nameRegex(spec: KnownSpec): string {
  let re = spec.name;
  for (const [p, v] of Object.entries(spec.params ?? {})) re = re.replace(`{${p}}`, () => `(${typeof v === 'string' ? v : v.map(escapeRe).join('|')})`);
  return re;
}

interface Checker {
  exact: Map<string, KnownSpec>;
  templated: { spec: KnownSpec; re: RegExp }[];
  namespaces: RegExp[];
  values: Map<string, RegExp>;
}

let checker: Checker | undefined;

function build(): Checker {
  const exact = new Map<string, KnownSpec>();
  const templated: Checker['templated'] = [];
  const namespaces = new Map<string, RegExp>();
  const values = new Map<string, RegExp>();
  for (const spec of KNOWN_EXTRA_SPECS) {
    const re = nameRegex(spec);
    if (spec.params) templated.push({ spec, re: new RegExp(`^(?:${re})$`) });
    else exact.set(spec.name, spec);
    // validators.py: the namespace is the name regex's text before its first ':'.
    if (re.includes(':')) {
      const ns = re.slice(0, re.indexOf(':'));
      if (!namespaces.has(ns)) namespaces.set(ns, new RegExp(`^(?:${ns})$`));
    }
    if (spec.value.type === 'str' && spec.value.pattern !== undefined && !values.has(spec.value.pattern)) {
      // Python's \d is any Unicode decimal digit (str patterns), as int() reads them too.
      values.set(spec.value.pattern, new RegExp(`^(?:${(RUN_AS[spec.value.pattern] ?? spec.value.pattern).replace(/\\d/g, '\\p{Nd}')})$`, 'u'));
    }
  }
  return { exact, templated, namespaces: [...namespaces.values()], values };
}

const TRUE_STRINGS = ['1', 't', 'true', 'on', 'y', 'yes'];
const FALSE_STRINGS = ['0', 'f', 'false', 'off', 'n', 'no'];

const isDigit = (cp: number) => /\p{Nd}/u.test(String.fromCodePoint(cp));

/** A Unicode decimal digit's value: Unicode lays them out in runs of ten, 0 to 9. */
function digitValue(ch: string): string {
  const cp = ch.codePointAt(0)!;
  let start = cp;
  while (isDigit(start - 1)) start--;
  return String((cp - start) % 10);
}

/** What Python's int() makes of a string: whitespace around, a sign, (Unicode) digits with single underscores. */
function pythonInt(value: string): bigint | undefined {
  const m = /^\s*([+-]?)(\p{Nd}+(?:_\p{Nd}+)*)\s*$/u.exec(value);
  return m ? BigInt(m[1] + [...m[2].replace(/_/g, '')].map(digitValue).join('')) : undefined;
}

/** base.ExtraSpecValidator.validate's value checks: Nova's message, or undefined when the value is good. */
function valueProblem(c: Checker, rule: SpecValueRule, value: string): string | undefined {
  if (rule.type === 'int') {
    const n = pythonInt(value);
    if (n === undefined) return `Validation failed; '${value}' is not a valid integer value.`;
    // The messages quote the integer read, as Nova's (its value is int(value) by then).
    if (rule.max !== undefined && BigInt(rule.max) < n) return `Validation failed; '${n}' is greater than the max value of '${rule.max}'.`;
    if (rule.min !== undefined && BigInt(rule.min) > n) return `Validation failed; '${n}' is less than the min value of '${rule.min}'.`;
    return undefined;
  }
  if (rule.type === 'bool') {
    const v = value.trim().toLowerCase();
    return TRUE_STRINGS.includes(v) || FALSE_STRINGS.includes(v) ? undefined : `Validation failed; '${value}' is not a valid boolean-like value.`;
  }
  if (rule.pattern !== undefined) return c.values.get(rule.pattern)!.test(value) ? undefined : `Validation failed; '${value}' is not of the format '${rule.pattern}'.`;
  if (rule.enum !== undefined && !rule.enum.includes(value)) return `Validation failed; '${value}' is not one of: ${rule.enum.join(', ')}.`;
  return undefined;
}

/**
 * validators.validate (2.86 on): Nova's 400 message for a known spec with a bad value, or an unknown
 * name in a known namespace; undefined when the spec passes. `value` is the spec's text.
 */
export function extraSpecProblem(name: string, value: string): string | undefined {
  const c = (checker ??= build());
  const known = c.exact.get(name) ?? c.templated.find((t) => t.re.test(name))?.spec;
  if (known) return valueProblem(c, known.value, value);
  if (!name.includes(':')) return undefined;
  const ns = name.slice(0, name.indexOf(':'));
  if (!c.namespaces.some((re) => re.test(ns))) return undefined;
  return `Validation failed; extra spec '${name}' does not appear to be a valid extra spec.`;
}
