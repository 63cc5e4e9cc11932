{{/* The image every Weft pod runs: repository:tag, the tag defaulting to the chart's appVersion. */}}
{{- define "weft.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/* net-conf.json (the weft-config ConfigMap), from .Values.network; numbers through toJson, which never
     prints an exponent. */}}
{{- define "weft.netConf" -}}
{{- $n := .Values.network -}}
{
  "clusterCIDRs": {{ toJson $n.clusterCIDRs }},
{{- if eq $n.backend.type "wireguard" }}
  "backend": { "type": "wireguard", "port": {{ toJson $n.encryption.port }} },
{{- else }}
  "backend": { "type": {{ toJson $n.backend.type }}, "vni": {{ toJson $n.backend.vni }}, "port": {{ toJson $n.backend.port }} },
{{- end }}
{{- if $n.encryption.enabled }}
  "encryption": { "type": "wireguard", "peers": {{ toJson $n.encryption.peers }}, "port": {{ toJson $n.encryption.port }} },
{{- end }}
{{- if not (kindIs "invalid" $n.mtu) }}
  "mtu": {{ toJson $n.mtu }},
{{- end }}
  "masquerade": {{ toJson $n.masquerade }},
  "nonMasqueradeCIDRs": {{ toJson $n.nonMasqueradeCIDRs }},
  "resyncSeconds": {{ toJson $n.resyncSeconds }},
  "networkPolicy": {{ toJson $n.networkPolicy }},
  "nodeCIDRMaskSize": {{ toJson $n.nodeCIDRMaskSize }}
{{- if not (kindIs "invalid" $n.nodeCIDRMaskSizeIPv6) }},
  "nodeCIDRMaskSizeIPv6": {{ toJson $n.nodeCIDRMaskSizeIPv6 }}
{{- end }}
}
{{- end }}

{{/* WEFT_HTTP_ADDR for port .port: every address of the cluster's underlay family, 0.0.0.0:<port>, or
     "[::]:<port>" in an IPv6-only cluster (no IPv4 cluster CIDR) so that scrapes over IPv6 reach it
     (quoted: YAML would read [::] as a list). */}}
{{- define "weft.httpAddr" -}}
{{- $ipv4 := false -}}
{{- range .root.Values.network.clusterCIDRs }}{{ if not (contains ":" .) }}{{ $ipv4 = true }}{{ end }}{{ end -}}
{{- if $ipv4 }}0.0.0.0:{{ .port }}{{ else }}{{ printf "[::]:%v" .port | quote }}{{ end -}}
{{- end }}

{{/* "true" when the agents run WireGuard (backend wireguard, or encryption with auto), else empty. */}}
{{- define "weft.wireguard" -}}
{{- if or (eq .Values.network.backend.type "wireguard") .Values.network.encryption.enabled }}true{{ end }}
{{- end }}

{{/* Pod annotations: Prometheus scraping on the given port, and the config checksum that makes helm upgrade restart the pods when net-conf.json changes. */}}
{{- define "weft.podAnnotations" -}}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .port | quote }}
prometheus.io/path: /metrics
checksum/net-conf: {{ include "weft.netConf" .root | sha256sum | trunc 16 }}
{{- end }}
