package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// dockerfile is the part of a Dockerfile the checks below read.
type dockerfile struct {
	env         map[string]string
	expose      []string
	volumes     []string
	user        string
	entrypoint  []string
	healthcheck []string
	runs        []string
	copies      [][]string // final stage: arguments of each COPY
}

func parseDockerfile(t *testing.T, path string) dockerfile {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d := dockerfile{env: map[string]string{}}
	text := strings.ReplaceAll(string(raw), "\\\n", " ")
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		instr, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		jsonArgs := func(s string) []string {
			var a []string
			if err := json.Unmarshal([]byte(s), &a); err != nil {
				t.Fatalf("Dockerfile: %s %s: want the JSON (exec) form: %v", instr, s, err)
			}
			return a
		}
		switch strings.ToUpper(instr) {
		case "FROM":
			d.copies = nil // only the final stage's copies matter
		case "ENV":
			for _, kv := range strings.Fields(rest) {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					t.Fatalf("Dockerfile: ENV %q: want KEY=VALUE", kv)
				}
				d.env[k] = v
			}
		case "EXPOSE":
			d.expose = append(d.expose, strings.Fields(rest)...)
		case "VOLUME":
			d.volumes = append(d.volumes, strings.Fields(rest)...)
		case "USER":
			d.user = rest
		case "ENTRYPOINT":
			d.entrypoint = jsonArgs(rest)
		case "HEALTHCHECK":
			_, cmd, ok := strings.Cut(rest, "CMD ")
			if !ok {
				t.Fatalf("Dockerfile: HEALTHCHECK without CMD")
			}
			d.healthcheck = append([]string{"CMD"}, jsonArgs(cmd)...)
		case "RUN":
			d.runs = append(d.runs, rest)
		case "COPY":
			d.copies = append(d.copies, strings.Fields(rest))
		}
	}
	return d
}

// compose is the part of docker-compose.yml the checks read.
type compose struct {
	Services map[string]struct {
		Build       any               `json:"build"`
		Ports       []string          `json:"ports"`
		Environment map[string]string `json:"environment"`
		Volumes     []string          `json:"volumes"`
		Healthcheck struct {
			Test []string `json:"test"`
		} `json:"healthcheck"`
	} `json:"services"`
	Volumes map[string]any `json:"volumes"`
}

// TestDockerFiles checks that the Dockerfile and docker-compose.yml agree with each other and
// with the binary (flags, subcommands, healthcheck), then runs the Dockerfile's exe build and
// starts it the way the container would, with the container's environment, and runs the
// healthcheck against it. No docker daemon is needed; `docker compose config` runs too when
// the compose plugin exists.
func TestDockerFiles(t *testing.T) {
	root, _ := filepath.Abs("../..")
	if out, err := exec.Command("docker", "compose", "version").CombinedOutput(); err == nil {
		cmd := exec.Command("docker", "compose", "-f", filepath.Join(root, "docker-compose.yml"), "config", "--quiet")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("docker compose config: %v\n%s", err, out)
		}
	} else {
		t.Logf("docker compose is not available (%s): checking the files without it", strings.TrimSpace(string(out)))
	}

	d := parseDockerfile(t, filepath.Join(root, "Dockerfile"))
	raw, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var c compose
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	svc, ok := c.Services["localpipe"]
	if !ok {
		t.Fatalf("docker-compose.yml: no service localpipe")
	}
	if svc.Build != "." {
		t.Errorf("compose build %v, want . (the Dockerfile at the top)", svc.Build)
	}

	// The binary's flags, from its --help: every LOCALPIPE_* variable must name one.
	help, err := exec.Command(binary, "--help").Output()
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for k, v := range d.env {
		env[k] = v
	}
	for k, v := range svc.Environment {
		env[k] = v
	}
	for k := range env {
		name, ok := strings.CutPrefix(k, "LOCALPIPE_")
		flagName := "-" + strings.ToLower(strings.ReplaceAll(name, "_", "-"))
		if !ok || !regexp.MustCompile(`(?m)^  `+regexp.QuoteMeta(flagName)+`\b`).Match(help) {
			t.Errorf("environment %s: the binary has no flag %s", k, flagName)
		}
	}

	// Port: the listen address, EXPOSE and the published port agree.
	_, port, err := net.SplitHostPort(env["LOCALPIPE_LISTEN"])
	if err != nil || !strings.HasPrefix(env["LOCALPIPE_LISTEN"], "0.0.0.0:") {
		t.Fatalf("LOCALPIPE_LISTEN %q: want 0.0.0.0:PORT, reachable from outside the container", env["LOCALPIPE_LISTEN"])
	}
	if port != "4566" || !slices.Equal(d.expose, []string{port}) || !slices.Contains(svc.Ports, port+":"+port) {
		t.Errorf("port: listen %s, EXPOSE %v, compose ports %v; want 4566 everywhere", port, d.expose, svc.Ports)
	}

	// Data: the data dir is the image's volume and compose mounts a named volume there.
	dataDir := env["LOCALPIPE_DATA_DIR"]
	if !slices.Equal(d.volumes, []string{dataDir}) {
		t.Errorf("VOLUME %v, LOCALPIPE_DATA_DIR %q: want the same one directory", d.volumes, dataDir)
	}
	mounts := map[string]string{} // container path → source
	for _, v := range svc.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) < 2 {
			t.Fatalf("compose volume %q: want SOURCE:TARGET", v)
		}
		mounts[parts[1]] = parts[0]
	}
	if src := mounts[dataDir]; src == "" || strings.HasPrefix(src, ".") || c.Volumes == nil {
		t.Errorf("compose: want a named volume on %s, declared under volumes:, got %q", dataDir, src)
	} else if _, ok := c.Volumes[src]; !ok {
		t.Errorf("compose: volume %s is not declared under volumes:", src)
	}

	// Config: LOCALPIPE_CONFIG is a file inside a mount from examples/.
	cfgPath := env["LOCALPIPE_CONFIG"]
	hostCfg := ""
	for target, src := range mounts {
		if rel, ok := strings.CutPrefix(cfgPath, target+"/"); ok {
			hostCfg = filepath.Join(root, src, rel)
			if !strings.HasPrefix(src, "./examples/") {
				t.Errorf("config mounted from %s, want from ./examples/", src)
			}
		}
	}
	if _, err := os.Stat(hostCfg); hostCfg == "" || err != nil {
		t.Fatalf("LOCALPIPE_CONFIG %q is not inside a mounted directory that holds it (%v)", cfgPath, err)
	}

	// The binary: where the final stage copies it is what the entrypoint and the healthcheck run.
	bin := ""
	for _, cp := range d.copies {
		if slices.Contains(cp, "/out/localpipe") {
			bin = cp[len(cp)-1]
		}
	}
	if bin == "" || !slices.Equal(d.entrypoint, []string{bin}) {
		t.Errorf("binary copied to %q, ENTRYPOINT %q: want the same path", bin, d.entrypoint)
	}
	if !slices.Equal(svc.Healthcheck.Test, d.healthcheck) || len(d.healthcheck) < 3 || d.healthcheck[1] != bin || commands[d.healthcheck[2]] == nil {
		t.Errorf("healthcheck: compose %q, Dockerfile %q: want [CMD %s health] in both", svc.Healthcheck.Test, d.healthcheck, bin)
	}
	if d.user == "" || strings.HasPrefix(d.user, "0") || strings.HasPrefix(d.user, "root") {
		t.Errorf("USER %q: want a non-root user", d.user)
	}
	build := ""
	for _, r := range d.runs {
		if strings.Contains(r, "go build") {
			build = r
		}
	}
	if !strings.Contains(build, "CGO_ENABLED=0 go build") || !strings.Contains(build, "-o /out/localpipe ./cmd/localpipe") {
		t.Fatalf("Dockerfile: no `CGO_ENABLED=0 go build ... -o /out/localpipe ./cmd/localpipe` step: %q", build)
	}

	// CGO_ENABLED=0 needs every package to build without cgo. Listing with that setting finds
	// a package that does not, at a fraction of the cost of the exe build itself.
	list := exec.Command("go", "list", "-deps", "-e", "-f", "{{if .Error}}{{.ImportPath}}: {{.Error}}{{end}}", ".")
	list.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := list.CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "" {
		t.Fatalf("CGO_ENABLED=0 go list: %v\n%s", err, out)
	}

	// Run the binary as the container would: the image's and the service's environment, the
	// mounts mapped to host directories, and a free port (4566 may be taken here).
	exe := binary
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, free, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	containerEnv := []string{}
	for k, v := range env {
		switch k {
		case "LOCALPIPE_LISTEN":
			v = "0.0.0.0:" + free
		case "LOCALPIPE_DATA_DIR":
			v = t.TempDir()
		case "LOCALPIPE_CONFIG":
			v = hostCfg
		}
		containerEnv = append(containerEnv, k+"="+v)
	}
	base := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	srv := exec.Command(exe)
	srv.Env = append(base, containerEnv...)
	srvOut := &syncBuffer{}
	srv.Stdout, srv.Stderr = srvOut, srvOut
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	hc := exec.Command(exe, append(d.healthcheck[2:], "--wait", "20s")...)
	hc.Env = append(base, containerEnv...)
	if out, err := hc.CombinedOutput(); err != nil {
		t.Fatalf("healthcheck %q in the container's environment: %v\n%s\nserver:\n%s", d.healthcheck, err, out, srvOut)
	}
	// Startup printed the banner with the seed's resources.
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(srvOut.String(), "kinesis stream   my-data-stream") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(srvOut.String(), fmt.Sprintf("on http://localhost:%s (all interfaces) (data in ", free)) || !strings.Contains(srvOut.String(), "kinesis stream   my-data-stream") {
		t.Errorf("banner:\n%s", srvOut)
	}
}
