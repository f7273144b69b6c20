// Output family: secrets/ (SOPS-encrypted Secret manifests and helm-secrets values files, already
// resolved by the secrets stage), .sops.yaml creation rules, and secrets/apply.sh.
import type { SiteModel } from '../model/site.ts';
import type { ResolvedSecrets } from '../secrets/store.ts';
import { SECRET_MANIFEST_REGEX } from '../secrets/store.ts';
import { renderDoc } from './assets.ts';
import { commentedYamlFile, textFile, type GeneratedFile } from './files.ts';

export function renderSopsConfig(site: SiteModel): GeneratedFile {
  const age = site.ageRecipients.join(',');
  return commentedYamlFile(
    '.sops.yaml',
    'SOPS creation rules: `sops edit <file>` encrypts to the site\'s age recipients. helm-secrets values files\nare encrypted whole; Secret manifests only under data/stringData (Flux decrypts them).',
    {
      creation_rules: [
        { path_regex: '(^|/)secrets/.+\\.values\\.sops\\.yaml$', age },
        { path_regex: `(^|/)(secrets|clusters/${site.name})/.+\\.sops\\.yaml$`, encrypted_regex: SECRET_MANIFEST_REGEX, age },
      ],
    },
  );
}

export function renderSecrets(site: SiteModel, secrets: ResolvedSecrets): GeneratedFile[] {
  const files: GeneratedFile[] = [renderSopsConfig(site)];
  // Encrypted files are written exactly as encrypted (no header: they are kept byte for byte).
  for (const [path, content] of secrets.files) files.push({ path, content, header: false });
  if (secrets.files.size) files.push(textFile('secrets/apply.sh', renderDoc('apply-secrets.sh', { site: site.name })));
  return files;
}
