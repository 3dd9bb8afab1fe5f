{{/* Name of the release's objects: <release>-chorus, or fullnameOverride. */}}
{{- define "chorus.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "chorus.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: chorus
{{- end -}}

{{/* Selector labels of a component: include "chorus.selector" (dict "root" $ "component" "gateway") */}}
{{- define "chorus.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "chorus.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "chorus.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* An image reference: repository@digest when a digest is set (the default), else repository:tag. */}}
{{- define "chorus.image" -}}
{{- if .digest -}}
{{- printf "%s@%s" .repository .digest -}}
{{- else -}}
{{- required "image: set digest (preferred) or tag" .tag | printf "%s:%s" .repository -}}
{{- end -}}
{{- end -}}

{{/* Address of Valkey: the in-chart node, or the external address(es). */}}
{{- define "chorus.valkeyAddr" -}}
{{- if .Values.valkey.enabled -}}
{{- printf "%s-valkey:6379" (include "chorus.fullname" .) -}}
{{- else -}}
{{- required "valkey.external.addr is required when valkey.enabled is false" .Values.valkey.external.addr -}}
{{- end -}}
{{- end -}}

{{- define "chorus.valkeyPasswordSecret" -}}
{{- default (printf "%s-valkey-auth" (include "chorus.fullname" .)) .Values.valkey.auth.existingSecret -}}
{{- end -}}

{{/* Environment shared by the gateway and the agents: Valkey, object store, logs, OpenTelemetry. */}}
{{- define "chorus.commonEnv" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
- name: CHORUS_VALKEY_ADDR
  value: {{ include "chorus.valkeyAddr" $root | quote }}
- name: CHORUS_KEY_PREFIX
  value: {{ $v.valkey.keyPrefix | quote }}
{{- if and (not $v.valkey.enabled) $v.valkey.external.tls.enabled }}
- name: CHORUS_VALKEY_TLS
  value: "true"
{{- if $v.valkey.external.tls.caSecret }}
- name: SSL_CERT_DIR
  value: /etc/ssl/certs:/etc/chorus/valkey-ca
{{- end }}
{{- end }}
{{- if or $v.valkey.auth.password $v.valkey.auth.existingSecret }}
- name: CHORUS_VALKEY_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "chorus.valkeyPasswordSecret" $root }}
      key: {{ $v.valkey.auth.existingSecretKey }}
{{- end }}
- name: CHORUS_OBJSTORE
  value: {{ $v.objstore.kind | quote }}
{{- if eq $v.objstore.kind "s3" }}
- name: CHORUS_S3_BUCKET
  value: {{ required "objstore.s3.bucket is required with objstore.kind=s3" $v.objstore.s3.bucket | quote }}
- name: CHORUS_S3_PREFIX
  value: {{ $v.objstore.s3.prefix | quote }}
{{- with $v.objstore.s3.region }}
- name: CHORUS_S3_REGION
  value: {{ . | quote }}
{{- end }}
{{- with $v.objstore.s3.endpoint }}
- name: CHORUS_S3_ENDPOINT
  value: {{ . | quote }}
{{- end }}
{{- if $v.objstore.s3.pathStyle }}
- name: CHORUS_S3_PATH_STYLE
  value: "true"
{{- end }}
{{- else }}
- name: CHORUS_OBJSTORE_DIR
  value: /var/lib/chorus/objects
{{- end }}
- name: CHORUS_LOG_FORMAT
  value: {{ $v.logs.format | quote }}
- name: CHORUS_LOG_LEVEL
  value: {{ $v.logs.level | quote }}
- name: OTEL_SERVICE_NAME
  value: {{ .service | quote }}
{{- if $v.otel.endpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ $v.otel.endpoint | quote }}
- name: OTEL_EXPORTER_OTLP_PROTOCOL
  value: {{ $v.otel.protocol | quote }}
- name: OTEL_TRACES_SAMPLER
  value: {{ $v.otel.sampler | quote }}
- name: OTEL_TRACES_SAMPLER_ARG
  value: {{ $v.otel.samplerArg | quote }}
{{- end }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ printf "service.namespace=%s,deployment.environment=%s,k8s.namespace.name=%s" $root.Release.Name $v.otel.environment $root.Release.Namespace | quote }}
{{- range $k, $val := $v.otel.extraEnv }}
- name: {{ $k }}
  value: {{ $val | quote }}
{{- end }}
{{- end -}}

{{/* Volumes shared by gateway and agents (object-store folder, Valkey CA). */}}
{{- define "chorus.commonVolumes" -}}
{{- $v := .Values -}}
{{- if eq $v.objstore.kind "local" }}
- name: objects
{{- if $v.objstore.local.existingClaim }}
  persistentVolumeClaim:
    claimName: {{ $v.objstore.local.existingClaim }}
{{- else }}
  emptyDir: {}
{{- end }}
{{- end }}
{{- if and (not $v.valkey.enabled) $v.valkey.external.tls.enabled $v.valkey.external.tls.caSecret }}
- name: valkey-ca
  secret:
    secretName: {{ $v.valkey.external.tls.caSecret }}
{{- end }}
{{- end -}}

{{- define "chorus.commonMounts" -}}
{{- $v := .Values -}}
{{- if eq $v.objstore.kind "local" }}
- name: objects
  mountPath: /var/lib/chorus/objects
{{- end }}
{{- if and (not $v.valkey.enabled) $v.valkey.external.tls.enabled $v.valkey.external.tls.caSecret }}
- name: valkey-ca
  mountPath: /etc/chorus/valkey-ca
  readOnly: true
{{- end }}
{{- end -}}

{{/* Pod and container security: non-root, read-only root filesystem, no privileges. */}}
{{- define "chorus.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsUser }}
fsGroup: {{ .Values.securityContext.runAsUser }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "chorus.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
{{- end -}}
