{{/*
Labels. No app.kubernetes.io/managed-by: the admission policy tenancy.dev-protect-managed-objects reserves that
key for the operator (Helm still adds its own managed-by label when it installs). No release name either: the
cluster-wide objects have fixed names, so there is one release per cluster, and the selectors must stay the
same as manifests/ so that a kubectl install can move to Helm.
*/}}
{{- define "tenant-operator.selectorLabels" -}}
app.kubernetes.io/name: tenant-operator
app.kubernetes.io/component: operator
{{- end }}

{{- define "tenant-operator.labels" -}}
{{ include "tenant-operator.selectorLabels" . }}
app.kubernetes.io/part-of: tenant-operator
{{- end }}

{{/* The operator's user name, which the admission policies exempt. */}}
{{- define "tenant-operator.serviceAccountUser" -}}
system:serviceaccount:{{ .Values.namespace.name }}:tenant-operator
{{- end }}

{{/* Where the self-service API's certificate and the OIDC CA bundle are mounted. */}}
{{- define "tenant-operator.apiTlsDir" -}}
/etc/tenant-operator/api-tls
{{- end }}
{{- define "tenant-operator.oidcCaDir" -}}
/etc/tenant-operator/oidc-ca
{{- end }}
