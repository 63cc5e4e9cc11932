//go:build tools

// Package controlplane pins the Kubernetes commands that the local-cluster harness runs:
// the control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl),
// the node components (kubelet, kube-proxy) and agnhost, the upstream e2e suite's test image
// command. It is built by build.sh; nothing imports it.
package controlplane

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
	_ "k8s.io/kubernetes/test/images/agnhost"
)
