// Flux managing itself: the Flux release the repository pins, the OCI artifact Flux publishes its
// manifests in (each release, signed keyless by its release workflow), and the components a site
// runs. The one place for these facts: the schema's defaults, the GitOps render, the RUNBOOK's
// bootstrap command and the validation rules read them here.

/** The Flux release a new site runs (its controllers serve the CRDs in ../shared/crds). */
export const FLUX_DEFAULT_VERSION = 'v2.9.4';

/**
 * The oldest Flux release that serves every API version siteforge writes: OCIRepository v1
 * (Flux 2.6), HelmRelease v2 and notification v1beta3 (older).
 */
export const FLUX_MINIMUM_VERSION = 'v2.6.0';

/** Where each Flux release publishes its install manifests, as an OCI artifact tagged with the version. */
export const FLUX_MANIFESTS_DEFAULT = 'oci://ghcr.io/fluxcd/flux-manifests';

/** The controllers `flux install` installs by default, and the ones the repository keeps. */
export const FLUX_COMPONENTS = ['source-controller', 'kustomize-controller', 'helm-controller', 'notification-controller'] as const;

/**
 * The components the published artifact carries besides those (it is built with
 * --components-extra): dropped from what the repository applies, so the site runs what the
 * bootstrap's `flux install` put there.
 */
export const FLUX_EXTRA_COMPONENTS = ['image-reflector-controller', 'image-automation-controller', 'source-watcher'] as const;

/** The label Flux's manifests put on every object of one component (its CRDs included). */
export const FLUX_COMPONENT_LABEL = 'app.kubernetes.io/component';
/** The label on every object of Flux's manifests. */
export const FLUX_PART_OF = 'app.kubernetes.io/part-of=flux';

/**
 * Who signs a release's artifact: the flux2 repository's release workflow, run for that tag, with
 * a GitHub Actions OIDC token (cosign keyless). Bound to the exact tag, so an older signed
 * artifact pushed under a newer tag is refused.
 */
export function fluxSignature(version: string): { issuer: string; subject: string } {
  const tag = version.replace(/\./g, '\\.');
  return {
    issuer: '^https://token\\.actions\\.githubusercontent\\.com$',
    subject: `^https://github\\.com/fluxcd/flux2/\\.github/workflows/release\\.yaml@refs/tags/${tag}$`,
  };
}
