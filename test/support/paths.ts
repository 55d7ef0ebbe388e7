import path from 'node:path';

/** The repository root (tests run from dist/test/...). */
export const REPO_ROOT = path.resolve(__dirname, '../../..');
/**
 * The shared reference data beside the repository (read-only); JACKET_REFERENCE names it for a checkout
 * that is not beside it (a git worktree elsewhere).
 */
export const REFERENCE = process.env.JACKET_REFERENCE ? path.resolve(process.env.JACKET_REFERENCE) : path.resolve(REPO_ROOT, '../shared/reference');
