package app

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestImportDirection keeps DESIGN.md's import rules true: engines know nothing of HTTP or of
// the wire layers, mapping imports nothing of ours, firehose sees streams and buckets only
// through its Source and Sink, and gateway/gatewayapi reaches the services only through its
// Invoker.
// Only internal/app and cmd/ import everything.
func TestImportDirection(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("SKIPPED: no go command to list packages with")
	}
	const mod = "github.com/localpipe/localpipe/"
	rules := []struct {
		pkg       string
		forbidden []string // import paths, or prefixes ending in "/"
		onlyOurs  []string // if set, the only packages of ours it may depend on
	}{
		{pkg: "stream", forbidden: []string{"net/http"}, onlyOurs: []string{"stream"}},
		{pkg: "objectstore", forbidden: []string{"net/http"}, onlyOurs: []string{"objectstore"}},
		{pkg: "firehose", forbidden: []string{"net/http"}, onlyOurs: []string{"firehose"}},
		{pkg: "mapping", onlyOurs: []string{"mapping"}},
		// The gateway engine: model, OpenAPI import, compiled plans, routing, id and stage rules.
		{pkg: "gateway", forbidden: []string{"net/http"}, onlyOurs: []string{"gateway", "gateway/jsonschema", "mapping", "internal/lazyre"}},
		// internal/awsjson is shared infrastructure (request ids), not a service.
		{pkg: "gateway/gatewayapi", onlyOurs: []string{"gateway/gatewayapi", "gateway", "gateway/jsonschema", "mapping", "internal/awsjson", "internal/lazyre"}},
		// The models' schema validator is a library: no HTTP, nothing else of ours.
		{pkg: "gateway/jsonschema", forbidden: []string{"net/http"}, onlyOurs: []string{"gateway/jsonschema"}},
		{pkg: "stream/kinesisapi", onlyOurs: []string{"stream/kinesisapi", "stream", "internal/awsjson", "internal/lazyre"}},
		{pkg: "firehose/firehoseapi", onlyOurs: []string{"firehose/firehoseapi", "firehose", "internal/awsjson", "internal/lazyre"}},
		// The trace index is plain data, filled in by internal/app from the services' callbacks.
		{pkg: "internal/trace", forbidden: []string{"net/http"}, onlyOurs: []string{"internal/trace"}},
		{pkg: "objectstore/s3api", onlyOurs: []string{"objectstore/s3api", "objectstore", "internal/awsjson"}},
		// Patterns compiled on first use (see its doc): a leaf any package may use.
		{pkg: "internal/lazyre", forbidden: []string{"net/http"}, onlyOurs: []string{"internal/lazyre"}},
		// functions is a client (HTTP, processes, SigV4 for Lambda endpoints) that knows no
		// service.
		{pkg: "internal/functions", onlyOurs: []string{"internal/functions", "internal/awswire"}},
		// Our AWS clients' path escaping and error reading (see its doc): a leaf.
		{pkg: "internal/awswire", onlyOurs: []string{"internal/awswire"}},
		// The SDK clients' HTTP fix (see its doc): a leaf.
		{pkg: "internal/sdkhttp", onlyOurs: []string{"internal/sdkhttp"}},
		// The server binary links no AWS SDK service client: its CLI helpers speak Kinesis and
		// S3 themselves (cmd/localpipe/awsclient.go) and the functions' endpoint runner calls
		// Lambda's Invoke itself, because a client's package costs every start its
		// initialisation and idle memory (the Lambda client's endpoint rules took a
		// millisecond; from v1.109.0 its schemas package built ~4,000 objects, 1 MiB of RSS).
		{pkg: "cmd/localpipe", forbidden: []string{"github.com/aws/aws-sdk-go-v2/service/"}},
	}
	for _, r := range rules {
		out, err := exec.Command("go", "list", "-deps", "./../../"+r.pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", r.pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, f := range r.forbidden {
				if dep == f || strings.HasSuffix(f, "/") && strings.HasPrefix(dep, f) {
					t.Errorf("%s depends on %s", r.pkg, dep)
				}
			}
			if ours, ok := strings.CutPrefix(dep, mod); ok && r.onlyOurs != nil && !slices.Contains(r.onlyOurs, ours) {
				t.Errorf("%s depends on %s; it may use only %v of ours", r.pkg, ours, r.onlyOurs)
			}
		}
	}
}
