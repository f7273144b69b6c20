// Snippets shared by the wrapper charts' own templates (Helm syntax, passed through untouched).

/** Standard labels for resources of a wrapper chart's templates, at the given indent. */
export function helmLabels(indent: number): string {
  const pad = ' '.repeat(indent);
  return [
    'app.kubernetes.io/managed-by: {{ .Release.Service | quote }}',
    'app.kubernetes.io/part-of: siteforge',
    'helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | quote }}',
  ]
    .map((l) => `${pad}${l}`)
    .join('\n');
}

/** The same labels inside a `range` (where `.` is the item): through the root context `$`. */
export function helmLabelsInRange(indent: number): string {
  return helmLabels(indent).replace(/\.Release/g, '$.Release').replace(/\.Chart/g, '$.Chart');
}
