// Renders a k3s containerd template the way k3s does (Go's text/template,
// the template as "compiled_template", k3s's base as "base"), with a
// stand-in of k3s's template data read from JSON. Standard library only.
//
//	render TEMPLATE DATA.json [BASE]
//
// BASE is the text k3s's base renders to; without it, "base" is empty.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"text/template"
)

// The fields of k3s's templates.ContainerdConfig, config.Node and the
// wharfie registries types that its Linux templates read.
type ContainerdConfig struct {
	NodeConfig            *Node
	DisableCgroup         bool
	SystemdCgroup         bool
	IsRunningInUserNS     bool
	EnableUnprivileged    bool
	PrivateRegistryConfig *Registry
	ExtraRuntimes         map[string]ContainerdRuntimeConfig
	Program               string
}

type ContainerdRuntimeConfig struct {
	RuntimeType string
	BinaryName  string
}

type Node struct {
	SELinux        bool
	NoFlannel      bool
	DefaultRuntime string
	Containerd     Containerd
	AgentConfig    Agent
}

type Containerd struct {
	Opt           string
	Registry      string
	BlockIOConfig string
	RDTConfig     string
}

type Agent struct {
	PauseImage         string
	Snapshotter        string
	ImageServiceSocket string
	CNIBinDir          string
	CNIConfDir         string
}

type Registry struct {
	Mirrors map[string]Mirror
	Configs map[string]RegistryConfig
}

type Mirror struct {
	Endpoints []string
	Rewrites  map[string]string
}

type RegistryConfig struct {
	Auth *AuthConfig
	TLS  *TLSConfig
}

type AuthConfig struct {
	Username      string
	Password      string
	Auth          string
	IdentityToken string
}

type TLSConfig struct {
	CAFile             string
	CertFile           string
	KeyFile            string
	InsecureSkipVerify bool
}

// k3s's Linux templates get this function map (a no-op there).
var funcs = template.FuncMap{"deschemify": func(s string) string { return s }}

func run(args []string) error {
	if len(args) < 2 || len(args) > 3 {
		return fmt.Errorf("usage: render TEMPLATE DATA.json [BASE]")
	}
	text, err := os.ReadFile(args[0])
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(args[1])
	if err != nil {
		return err
	}
	var data ContainerdConfig
	if err := json.Unmarshal(raw, &data); err != nil {
		return fmt.Errorf("%s: %w", args[1], err)
	}
	base := []byte{}
	if len(args) == 3 {
		if base, err = os.ReadFile(args[2]); err != nil {
			return err
		}
	}
	t, err := template.New("compiled_template").Funcs(funcs).Parse(string(text))
	if err != nil {
		return err
	}
	// As k3s does; the base stand-in is plain text, so it is parsed too.
	if _, err := t.New("base").Parse(string(base)); err != nil {
		return err
	}
	return t.Execute(os.Stdout, &data)
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "render:", err)
		os.Exit(1)
	}
}
