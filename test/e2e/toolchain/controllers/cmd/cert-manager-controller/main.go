// Command cert-manager-controller runs cert-manager's own controllers (the library's pkg/controller
// registry) out of cluster against a kubeconfig. The upstream binary module (cmd/controller) is not
// served by the Go module proxy, so this main wires the same controllers the upstream binary
// enables by default for the CA and self-signed issuers; ACME, Vault, Venafi, the ingress/gateway
// shims and the metrics/webhook servers are left out (nothing in the e2e uses them).
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	controllerpkg "github.com/cert-manager/cert-manager/pkg/controller"
	logf "github.com/cert-manager/cert-manager/pkg/logs"

	// Each import registers its controller with controllerpkg.Register (init).
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/approver"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/ca"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/selfsigned"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/issuing"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/keymanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/readiness"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/requestmanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/revisionmanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/trigger"
	_ "github.com/cert-manager/cert-manager/pkg/controller/clusterissuers"
	_ "github.com/cert-manager/cert-manager/pkg/controller/issuers"
	// Issuer backends the issuers/clusterissuers controllers set up (init registers them).
	_ "github.com/cert-manager/cert-manager/pkg/issuer/ca"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/selfsigned"
)

// The controllers this binary runs; every one must have registered itself above.
var controllers = []string{
	"issuers",
	"clusterissuers",
	"certificaterequests-approver",
	"certificaterequests-issuer-ca",
	"certificaterequests-issuer-selfsigned",
	"certificates-trigger",
	"certificates-issuing",
	"certificates-key-manager",
	"certificates-request-manager",
	"certificates-readiness",
	"certificates-revision-manager",
}

func main() {
	kubeconfig := flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig of the cluster to manage")
	namespace := flag.String("cluster-resource-namespace", "cert-manager", "namespace of the Secrets ClusterIssuers refer to")
	workers := flag.Int("workers", 5, "workers per controller")
	minBackoff := flag.Duration("certificate-request-minimum-backoff", time.Hour, "first delay before a failed issuance is retried (upstream default 1h)")
	maxBackoff := flag.Duration("certificate-request-maximum-backoff", 32*time.Hour, "longest delay between retries of a failed issuance (upstream default 32h)")
	readyzAddress := flag.String("readyz-address", "", "host:port serving /readyz (200 once the informer caches are synced); empty: none")
	version := flag.Bool("version", false, "print the cert-manager library version and exit")
	flag.Parse()
	if *version {
		fmt.Println(libraryVersion())
		return
	}
	logf.InitLogs()
	defer logf.FlushLogs()

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	log := logf.FromContext(ctx, "cert-manager-controller")

	factory, err := controllerpkg.NewContextFactory(ctx, controllerpkg.ContextOptions{
		Kubeconfig:         *kubeconfig,
		KubernetesAPIQPS:   20,
		KubernetesAPIBurst: 50,
		Namespace:          "", // all namespaces
		IssuerOptions:      controllerpkg.IssuerOptions{ClusterResourceNamespace: *namespace},
		CertificateOptions: controllerpkg.CertificateOptions{
			CopiedAnnotationPrefixes:                 []string{"*", "-kubectl.kubernetes.io/", "-fluxcd.io/", "-argocd.argoproj.io/"},
			CertificateRequestMinimumBackoffDuration: *minBackoff,
			CertificateRequestMaximumBackoffDuration: *maxBackoff,
		},
	})
	if err != nil {
		fail("building the controller context: %v", err)
	}

	known := controllerpkg.Known()
	var wg sync.WaitGroup
	for _, name := range controllers {
		construct, ok := known[name]
		if !ok {
			names := make([]string, 0, len(known))
			for n := range known {
				names = append(names, n)
			}
			sort.Strings(names)
			fail("controller %q is not registered (registered: %v)", name, names)
		}
		iface, err := construct(factory)
		if err != nil {
			fail("creating controller %q: %v", name, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := iface.Run(*workers, ctx); err != nil {
				log.Error(err, "controller stopped", "controller", name)
				cancel()
			}
		}()
	}

	// The controllers registered their informers while being constructed: start them all now.
	shared, err := factory.Build()
	if err != nil {
		fail("building the shared context: %v", err)
	}
	shared.KubeSharedInformerFactory.Start(ctx.Done())
	shared.SharedInformerFactory.Start(ctx.Done())
	log.Info("started", "controllers", controllers, "clusterResourceNamespace", *namespace)

	if *readyzAddress != "" {
		var ready atomic.Bool
		mux := http.NewServeMux()
		mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
			if !ready.Load() {
				http.Error(w, "informer caches not synced", http.StatusServiceUnavailable)
				return
			}
			fmt.Fprintln(w, "ok")
		})
		srv := &http.Server{Addr: *readyzAddress, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go func() {
			if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
				log.Error(err, "readyz server stopped")
				cancel()
			}
		}()
		go func() {
			<-ctx.Done()
			_ = srv.Close()
		}()
		go func() {
			shared.KubeSharedInformerFactory.WaitForCacheSync(ctx.Done())
			shared.SharedInformerFactory.WaitForCacheSync(ctx.Done())
			ready.Store(ctx.Err() == nil)
		}()
	}

	<-ctx.Done()
	wg.Wait()
	shared.KubeSharedInformerFactory.Shutdown()
	shared.SharedInformerFactory.Shutdown()
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "cert-manager-controller: "+format+"\n", args...)
	os.Exit(1)
}
