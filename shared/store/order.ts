// Row keys that sort in a list's default order. Table storage returns a partition in ascending RowKey
// order, and Nova and Cinder list newest first (created_at desc, id desc), so a key made of the
// inverted creation time and the inverted id puts a partition in that order: a page is then one
// partition query after the marker's key (Repository.page), whatever the partition holds. Used by the
// servers' records (compute/servers/model.ts orderKey, millisecond time) and the volumes' order index
// (volume/model.ts volumeOrderKey, Cinder's microsecond time string).

/** Hex digits inverted (0↔f): ids of one format sort descending. */
export const invertHex = (id: string): string => id.toLowerCase().replace(/[0-9a-f]/g, (c) => (15 - parseInt(c, 16)).toString(16));

/** Decimal digits inverted (0↔9): fixed-format timestamps ("2026-12-03T09:19:45.176000") sort descending, as their strings compare. */
export const invertDigits = (t: string): string => t.replace(/[0-9]/g, (c) => String(9 - Number(c)));
