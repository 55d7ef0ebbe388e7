// Power actions (nova/api/openstack/compute/servers.py _reboot, _start, _stop at 2.1):
//   reboot SOFT  -> VM restart (Azure's guest restart);
//   reboot HARD  -> power off without shutdown (skipShutdown), then start — from ACTIVE, and, as Nova
//                   allows a hard reboot from SHUTOFF/SUSPENDED/ERROR too, the start brings it up;
//   os-stop      -> deallocate (JACKET_STOP_DEALLOCATES, default: no compute billing while SHUTOFF)
//                   or power off;
//   os-start     -> start.
// Each answers 202 with no body once the state guard passed; powerWork.ts runs the ARM operations.
import { registerServerAction } from './registry';
import { beginPowerAction, stopOp, POWER } from '../work/power';
import { ACTION } from '../instanceActions';
import type { VmState, TaskState } from '../model';

// nova/compute/vm_states.py ALLOW_SOFT_REBOOT / ALLOW_HARD_REBOOT; task_states.py ALLOW_REBOOT.
const ALLOW_SOFT_REBOOT: VmState[] = ['active'];
const ALLOW_HARD_REBOOT: VmState[] = ['active', 'stopped', 'paused', 'suspended', 'error'];
const ALLOW_REBOOT_TASKS: TaskState[] = [null, 'rebooting', 'rebooting_hard', 'resuming', 'suspending'];

// servers.reboot at 2.1 (type in any of Nova's spellings).
const rebootSchema = {
  type: 'object',
  properties: {
    reboot: {
      type: 'object',
      properties: { type: { type: 'string', enum: ['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft'] } },
      required: ['type'],
      additionalProperties: false,
    },
  },
  required: ['reboot'],
  additionalProperties: false,
};
const emptyActionSchema = (name: string) => ({ type: 'object', properties: { [name]: {} }, required: [name], additionalProperties: false });

registerServerAction({
  name: 'reboot',
  policy: 'os_compute_api:servers:reboot',
  schema: rebootSchema,
  handler: async (ctx, args) => {
    const hard = (args as { type: string }).type.toUpperCase() === 'HARD';
    if (!hard) {
      return beginPowerAction(ctx, { method: 'reboot', vm: ALLOW_SOFT_REBOOT }, ACTION.REBOOT, 'compute_reboot_instance', {
        ops: ['restart'],
        task: 'rebooting',
        final: { vm_state: 'active', power_state: POWER.RUNNING },
      });
    }
    return beginPowerAction(ctx, { method: 'reboot', vm: ALLOW_HARD_REBOOT, task: ALLOW_REBOOT_TASKS }, ACTION.REBOOT, 'compute_reboot_instance', {
      ops: ['powerOffSkipShutdown', 'start'],
      task: 'rebooting_hard',
      final: { vm_state: 'active', power_state: POWER.RUNNING },
    });
  },
});

registerServerAction({
  name: 'os-stop',
  policy: 'os_compute_api:servers:stop',
  schema: emptyActionSchema('os-stop'),
  handler: (ctx) =>
    beginPowerAction(ctx, { method: 'stop', vm: ['active', 'error'], host: true }, ACTION.STOP, 'compute_stop_instance', {
      ops: [stopOp(ctx.services)],
      task: 'powering-off',
      final: { vm_state: 'stopped', power_state: POWER.SHUTDOWN },
    }),
});

registerServerAction({
  name: 'os-start',
  policy: 'os_compute_api:servers:start',
  schema: emptyActionSchema('os-start'),
  handler: (ctx) =>
    beginPowerAction(ctx, { method: 'start', vm: ['stopped'], host: true }, ACTION.START, 'compute_start_instance', {
      ops: ['start'],
      task: 'powering-on',
      final: { vm_state: 'active', power_state: POWER.RUNNING },
    }),
});
