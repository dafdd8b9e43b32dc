import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** True when the module is the process entry (`tsx bench/x.ts`), false when imported. */
export function isMain(moduleUrl: string): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}
