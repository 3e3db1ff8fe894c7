//go:build tools

// Helm v3 keeps its command line in package main (helm.sh/helm/v3/cmd/helm), which no wrapper can import or
// call, so build.sh builds that package from inside this module. This file records the dependency so that
// `go mod tidy` keeps go.mod and go.sum complete for it; the build tag keeps it out of every build.
package main

import _ "helm.sh/helm/v3/cmd/helm"
