// The other examples generated end to end, as test/generate.test.ts does site.yaml, the minimal
// site and HPK: written and committed once, idempotent, --check clean.
import { generateIdempotently } from '../helpers/generate.ts';

for (const spec of ['examples/k0s-gpu.yaml', 'examples/sandia.yaml', 'examples/mdx.yaml']) generateIdempotently(spec);
