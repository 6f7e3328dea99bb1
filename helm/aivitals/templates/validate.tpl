{{/*
Checks the schema cannot express. Each failure names the key to fix; included by every workload
template so no object renders from contradicting values.
*/}}
{{- define "aivitals.validate" -}}
{{- if and (eq .Values.store.type "postgres") (not .Values.store.postgres.existingSecret.name) -}}
{{- fail "store.postgres.existingSecret.name: name the Secret holding the postgresql:// URL the replicas share" -}}
{{- end -}}
{{- if and (gt (int .Values.replicas) 1) (ne .Values.store.type "postgres") -}}
{{- fail (printf "replicas: %d replicas need a shared store, but store.type is %s (one writer); set replicas to 1 or store.type to postgres" (int .Values.replicas) .Values.store.type) -}}
{{- end -}}
{{- if and .Values.apiToken.value .Values.apiToken.existingSecret.name -}}
{{- fail "apiToken: set apiToken.value or apiToken.existingSecret.name, not both" -}}
{{- end -}}
{{- if and .Values.apiToken.value (lt (len .Values.apiToken.value) 8) -}}
{{- fail "apiToken.value: the sidecar needs a token of at least 8 characters" -}}
{{- end -}}
{{- if and .Values.hashingKey.value .Values.hashingKey.existingSecret.name -}}
{{- fail "hashingKey: set hashingKey.value or hashingKey.existingSecret.name, not both" -}}
{{- end -}}
{{- if and .Values.hashingKey.value (lt (len .Values.hashingKey.value) 16) -}}
{{- fail "hashingKey.value: the sidecar needs a hashing key of at least 16 characters" -}}
{{- end -}}
{{- if and .Values.persistence.enabled .Values.persistence.requireStorageClass (not .Values.persistence.storageClass) -}}
{{- fail "persistence.storageClass: persistence.requireStorageClass is true, so name the StorageClass for the sidecar's volume (or set persistence.enabled=false)" -}}
{{- end -}}
{{- if and .Values.podMonitor.enabled (not .Values.podMonitor.selector.matchLabels) -}}
{{- fail "podMonitor.selector.matchLabels: name the labels of your application pods; an empty selector would scrape every pod" -}}
{{- end -}}
{{- end -}}
