//go:build tools

// The other binaries built from this module: requiring them here keeps one module graph, so the
// Kubernetes libraries they share compile once.
package tools

import (
	_ "github.com/cert-manager/trust-manager/cmd/trust-manager"
	_ "helm.sh/helm/v3/cmd/helm"
	_ "sigs.k8s.io/kwok/cmd/kwok"
)
