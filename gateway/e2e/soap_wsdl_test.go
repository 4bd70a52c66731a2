package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// servedWSDLs are every WSDL the gateway serves, each with an operation its
// client must list.
var servedWSDLs = []struct{ name, path, operation string }{
	{"Exigo", "/3.0/ExigoApi.asmx?WSDL", "GetCustomerBalances"},
	{"Magento v1", "/index.php/api/soap/?wsdl", "call"},
	{"Magento v2", "/index.php/api/v2_soap/?wsdl", "enterpriseCustomerbalanceHistory"},
	{"Magento v2 WS-I", "/index.php/api/v2_soap/wsi/?wsdl", "enterpriseCustomerbalanceHistory"},
}

// Every served WSDL loads, without edits and offline, in each toolkit the
// seeds' users have: PHP SoapClient, Mono's wsdl generator (compiled with
// mcs), zeep and node-soap. Each must list the operations; the calls
// themselves are in the per-dialect tests.
func TestWSDLsLoadInEveryClient(t *testing.T) {
	t.Parallel()
	python := "/usr/bin/python3" // TOOLCHAIN.md: not another python on PATH
	clients := map[string]func(t *testing.T, url string) string{
		"PHP": func(t *testing.T, url string) string {
			return runClient(t, requirePHP(t), "-r",
				`$c = new SoapClient($argv[1], ["cache_wsdl" => WSDL_CACHE_NONE]); echo implode("\n", $c->__getFunctions());`, url)
		},
		"zeep": func(t *testing.T, url string) string {
			if err := exec.Command(python, "-c", "import zeep").Run(); err != nil {
				skipWithout(t, err, "zeep", "apt-get install -y python3-zeep")
			}
			return runClient(t, python, "-c", `import sys, zeep
c = zeep.Client(sys.argv[1])
for s in c.wsdl.services.values():
    for p in s.ports.values():
        print("\n".join(p.binding._operations))`, url)
		},
		"node-soap": func(t *testing.T, url string) string {
			node := requireNode(t)
			modules, err := filepath.Abs(filepath.Join(nodeDir, "node_modules"))
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.CommandContext(t.Context(), node, "-e", `require("soap").createClientAsync(process.argv[1]).then(
  c => console.log(JSON.stringify(c.describe())), e => { console.error(e); process.exit(1); });`, url)
			cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
			return output(t, cmd)
		},
		"Mono": func(t *testing.T, url string) string {
			m := requireMono(t)
			dir := t.TempDir()
			proxy := filepath.Join(dir, "Proxy.cs")
			runClient(t, m.wsdl, "-nologo", "-out:"+proxy, url)
			runClient(t, m.mcs, "-warnaserror+", "-t:library", "-out:"+filepath.Join(dir, "Proxy.dll"),
				"-r:System.Web.Services.dll", "-r:System.Xml.dll", proxy)
			generated, err := os.ReadFile(proxy)
			if err != nil {
				t.Fatal(err)
			}
			return string(generated)
		},
	}
	for name, load := range clients {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, w := range servedWSDLs {
				if got := load(t, sys.gateway+w.path); !strings.Contains(got, w.operation) {
					t.Errorf("%s: the %s WSDL loaded without operation %s:\n%s", name, w.name, w.operation, got)
				}
			}
		})
	}
}

// runClient runs a client program and returns its standard output.
func runClient(t *testing.T, program string, args ...string) string {
	t.Helper()
	return output(t, exec.CommandContext(t.Context(), program, args...))
}

func output(t *testing.T, cmd *exec.Cmd) string {
	t.Helper()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s\n%s", strings.Join(cmd.Args, " "), err, out, stderr.String())
	}
	return string(out)
}
