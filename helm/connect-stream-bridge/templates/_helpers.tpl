{{/* Chart name, at most 63 characters (DNS label). */}}
{{- define "csb.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full resource name: the release name, with the chart name unless it already contains it. */}}
{{- define "csb.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Chart name and version, for the helm.sh/chart label. */}}
{{- define "csb.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels that select the pods; never change them after the first install. */}}
{{- define "csb.selectorLabels" -}}
app.kubernetes.io/name: {{ include "csb.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of every resource. */}}
{{- define "csb.labels" -}}
helm.sh/chart: {{ include "csb.chart" . }}
{{ include "csb.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | toString | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: connect-stream-bridge
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The container image reference: repository@digest, else repository:tag (appVersion by default). */}}
{{- define "csb.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion | toString) }}
{{- end }}
{{- end }}

{{/* Name of the ServiceAccount the pods use. */}}
{{- define "csb.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "csb.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Name of the Secret the pods load: existingSecret, else the one the chart renders. */}}
{{- define "csb.secretName" -}}
{{- default (include "csb.fullname" .) .Values.existingSecret }}
{{- end }}

{{/*
One environment value as a string. YAML numbers reach templates as float64, which print as
1.048576e+06 once they reach a million; whole numbers are printed as integers.
*/}}
{{- define "csb.envValue" -}}
{{- if kindIs "float64" . }}
{{- if eq (float64 (int64 .)) . }}
{{- int64 . | toString }}
{{- else }}
{{- toString . }}
{{- end }}
{{- else }}
{{- toString . }}
{{- end }}
{{- end }}

{{/* True (non-empty output) when a settings value counts as set: neither null nor empty. */}}
{{- define "csb.isSet" -}}
{{- if not (kindIs "invalid" .) }}
{{- if ne (toString .) "" }}true{{ end }}
{{- end }}
{{- end }}

{{/*
terminationGracePeriodSeconds, checked against the shutdown sequence: the preStop sleep runs
first, then SIGTERM gives the service up to SHUTDOWN_TIMEOUT_MS; 5 seconds of margin on top.
*/}}
{{- define "csb.terminationGracePeriodSeconds" -}}
{{- $shutdownMs := index .Values.config "SHUTDOWN_TIMEOUT_MS" | default 25000 | int64 }}
{{- $shutdownSeconds := div (add $shutdownMs 999) 1000 }}
{{- $preStop := .Values.preStopSleepSeconds | int64 }}
{{- $minimum := add $preStop $shutdownSeconds 5 }}
{{- $grace := .Values.terminationGracePeriodSeconds | int64 }}
{{- if lt $grace $minimum }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must be at least %d: preStopSleepSeconds (%d) + SHUTDOWN_TIMEOUT_MS (%d s) + 5" $grace $minimum $preStop $shutdownSeconds) }}
{{- end }}
{{- $grace }}
{{- end }}

{{/* PromQL label matchers selecting this release's series. */}}
{{- define "csb.metricsSelector" -}}
{{- if .Values.metrics.prometheusRule.selector }}
{{- .Values.metrics.prometheusRule.selector }}
{{- else }}
{{- printf "namespace=%q, job=%q" .Release.Namespace (include "csb.fullname" .) }}
{{- end }}
{{- end }}
