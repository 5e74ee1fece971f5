package registry

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// DefaultPrefix is the key prefix of a registry URL that names none.
const DefaultPrefix = "/kendall"

// urlExample ends every URL error, so that the user sees a valid one.
const urlExample = "expected etcd://127.0.0.1:2379"

// Target is a parsed registry URL: where etcd is and under which prefix
// the keys live.
type Target struct {
	// Endpoints are etcd client addresses, host:port.
	Endpoints []string
	// Prefix starts with a slash and does not end with one.
	Prefix string
}

// String gives the target back as a registry URL.
func (t Target) String() string {
	return "etcd://" + strings.Join(t.Endpoints, ",") + t.Prefix
}

// ParseURL parses a registry URL, etcd://host:port[,host:port...][/prefix].
// The prefix defaults to DefaultPrefix. Ports are required: etcd has no
// single port that every user's would default to, and a missing one is
// more often a typo.
func ParseURL(raw string) (Target, error) {
	t, err := parseURL(raw)
	if err != nil {
		return Target{}, fmt.Errorf("registry %s: %w; %s", raw, err, urlExample)
	}
	return t, nil
}

func parseURL(raw string) (Target, error) {
	if raw == "" {
		return Target{}, errors.New("empty")
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return Target{}, errors.New("no scheme")
	}
	if scheme != "etcd" {
		return Target{}, fmt.Errorf("scheme %q is not etcd", scheme)
	}
	if i := strings.IndexAny(rest, "?#@ "); i >= 0 {
		return Target{}, fmt.Errorf("%q is not allowed (no user, query, fragment or space)", rest[i])
	}
	hosts, prefix, _ := strings.Cut(rest, "/")
	if hosts == "" {
		return Target{}, errors.New("no host:port")
	}
	t := Target{Prefix: DefaultPrefix}
	for _, hp := range strings.Split(hosts, ",") {
		host, port, err := net.SplitHostPort(hp)
		if err != nil {
			return Target{}, fmt.Errorf("endpoint %q is not host:port", hp)
		}
		if host == "" {
			return Target{}, fmt.Errorf("endpoint %q has no host", hp)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return Target{}, fmt.Errorf("endpoint %q: port %q is not a number from 1 to 65535", hp, port)
		}
		t.Endpoints = append(t.Endpoints, hp)
	}
	if prefix = strings.Trim(prefix, "/"); prefix != "" {
		for _, seg := range strings.Split(prefix, "/") {
			if seg == "" || seg == "." || seg == ".." {
				return Target{}, fmt.Errorf("prefix /%s has an empty, . or .. segment", prefix)
			}
		}
		t.Prefix = "/" + prefix
	}
	return t, nil
}

// checkName rejects a topology or service name that would break the key
// layout: a slash would let one service's keys fall under another's
// prefix.
func checkName(what, name string) error {
	if name == "" {
		return fmt.Errorf("empty %s name", what)
	}
	if strings.ContainsAny(name, "/\x00") || name == "." || name == ".." {
		return fmt.Errorf("%s name %q contains a slash or NUL, or is . or ..", what, name)
	}
	return nil
}
