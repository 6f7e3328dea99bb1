{{/* The chart name, or nameOverride. */}}
{{- define "aivitals.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Object name prefix: release + chart name, unless the release already holds it. */}}
{{- define "aivitals.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Labels that select the sidecar pod: stable across upgrades. */}}
{{- define "aivitals.selectorLabels" -}}
app.kubernetes.io/name: {{ include "aivitals.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: sidecar
{{- end -}}

{{/* Labels on every object. */}}
{{- define "aivitals.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "aivitals.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: aivitals
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Labels on the objects the Prometheus operator selects: the release label it looks for. */}}
{{- define "aivitals.monitoringLabels" -}}
{{ include "aivitals.labels" . }}
release: {{ .Values.prometheus.release | quote }}
{{- with .Values.prometheus.labels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "aivitals.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "aivitals.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "aivitals.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The Secret and key the API token comes from: the operator's, else the chart's own. */}}
{{- define "aivitals.tokenSecretName" -}}
{{- if .Values.apiToken.existingSecret.name -}}
{{- .Values.apiToken.existingSecret.name -}}
{{- else -}}
{{- printf "%s-api-token" (include "aivitals.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "aivitals.tokenSecretKey" -}}
{{- if .Values.apiToken.existingSecret.name -}}
{{- .Values.apiToken.existingSecret.key -}}
{{- else -}}
api-token
{{- end -}}
{{- end -}}

{{/* The Secret and key the hashing key comes from: the operator's, else the chart's own. */}}
{{- define "aivitals.hashingKeySecretName" -}}
{{- if .Values.hashingKey.existingSecret.name -}}
{{- .Values.hashingKey.existingSecret.name -}}
{{- else -}}
{{- printf "%s-hashing-key" (include "aivitals.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "aivitals.hashingKeySecretKey" -}}
{{- if .Values.hashingKey.existingSecret.name -}}
{{- .Values.hashingKey.existingSecret.key -}}
{{- else -}}
hashing-key
{{- end -}}
{{- end -}}

{{/*
A chart-owned secret value, base64: the given value, else the one already in the cluster's Secret
(so upgrades keep it), else a new random one. Call with (list $ "<secret name>" "<key>" "<value>" <length>).
*/}}
{{- define "aivitals.secretValue" -}}
{{- $root := index . 0 -}}
{{- $name := index . 1 -}}
{{- $key := index . 2 -}}
{{- $given := index . 3 -}}
{{- if $given -}}
{{- $given | b64enc -}}
{{- else -}}
{{- $existing := lookup "v1" "Secret" $root.Release.Namespace $name -}}
{{- if and $existing (hasKey (default dict $existing.data) $key) -}}
{{- index $existing.data $key -}}
{{- else -}}
{{- randAlphaNum (index . 4) | b64enc -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The sidecar's config file: the chart sets the token, store, host and port itself. */}}
{{- define "aivitals.configFile" -}}
{{- if .Values.config -}}
{{ toYaml .Values.config }}
{{- else -}}
{}
{{- end -}}
{{- end -}}

{{/* The thresholds file, in the layout aivitals.config reads. */}}
{{- define "aivitals.thresholdsFile" -}}
{{- $file := dict -}}
{{- with .Values.thresholds }}{{ $_ := set $file "thresholds" . }}{{ end -}}
{{- with .Values.capacity }}{{ $_ := set $file "capacity" . }}{{ end -}}
{{- if $file -}}
{{ toYaml $file }}
{{- else -}}
{}
{{- end -}}
{{- end -}}

{{/* Rule files and dashboards shipped in files/ (copied there by aivitals build). */}}
{{- define "aivitals.ruleFiles" -}}
{{- range $path, $_ := .Files.Glob "files/rules/*.yaml" }}
- {{ $path }}
{{- end }}
{{- end -}}

{{/* A DNS-1123 name for a dashboard file: files/dashboards/ai_vitals.json -> ai-vitals. */}}
{{- define "aivitals.dashboardName" -}}
{{- base . | trimSuffix ".json" | lower | regexReplaceAll "[^a-z0-9-]+" "-" | trimAll "-" -}}
{{- end -}}
