// Preloaded by the benchmark (node --import): records the process's peak RSS on exit.
import { writeFileSync } from 'node:fs';

const target = process.env.SITEFORGE_RUSAGE_FILE;
if (target) process.on('exit', () => writeFileSync(target, String(process.resourceUsage().maxRSS)));
