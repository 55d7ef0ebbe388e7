import path from 'node:path';

/** The repository root (tests run from dist/test/...). */
export const REPO_ROOT = path.resolve(__dirname, '../../..');
/** The shared reference data beside the repository (read-only). */
export const REFERENCE = path.resolve(REPO_ROOT, '../shared/reference');
