package main

import "runtime/debug"

// libraryVersion is the github.com/cert-manager/cert-manager module version this binary was built from.
func libraryVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "github.com/cert-manager/cert-manager" {
				return "cert-manager " + dep.Version
			}
		}
	}
	return "cert-manager (unknown version)"
}
