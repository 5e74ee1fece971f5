package registry

import (
	"os"
	"testing"

	"github.com/kendallqn/kendall/internal/etcdtest"
)

// etcdURL is the registry URL of the etcd that TestMain embeds in the test
// binary: a real one, on loopback, shared by the tests (each uses its own
// topology name), since it takes about a second to start.
var etcdURL string

func TestMain(m *testing.M) { os.Exit(etcdtest.Main(m, &etcdURL)) }
