// Package registry lets the replicas of an emulated topology find each
// other through etcd when they run in several processes.
//
// The emulation (package emulate) serves every replica of a service as its
// own HTTP server on loopback. In one process, callers know their callees'
// URLs directly. When the services are split across processes (kendall
// serve FILE --services catalog,db --registry etcd://127.0.0.1:2379), each
// process registers the replicas it serves, and the callers of a service
// watch the registry for its replicas' URLs. etcd is the registry because
// it gives the three things this needs: leases (a replica disappears when
// its process dies, without anyone cleaning up), transactions (two
// processes cannot both claim a service) and watches (callers learn of a
// change at once rather than by polling).
//
// # Registry URL
//
// A registry is named by a URL of the form
//
//	etcd://host:port[,host:port...][/prefix]
//
// with one or more etcd client endpoints and an optional key prefix,
// /kendall by default. Several topologies, or several users of one etcd,
// stay apart by their prefix. ParseURL checks a URL; Open connects to it
// and fails within Options.DialTimeout (5 s by default) when no etcd
// answers, with an error that names the address.
//
// # Key layout
//
// For a topology T and a service S, under the prefix P:
//
//	P/T/S/owner              {"host":"h","pid":1234,"since":"2026-…Z"}
//	P/T/S/replicas/<replica> {"url":"http://127.0.0.1:PORT","replica":0,"pid":1234,"host":"h"}
//
// <replica> is the replica's index in decimal. All keys a process writes
// are attached to one lease of that process (TTL Options.TTL, 5 s by
// default), which a background goroutine keeps alive. Close revokes the
// lease, so that every replica of the process disappears at once; if the
// process dies instead, they disappear when the lease expires, at most one
// TTL later.
//
// # Ownership
//
// A service is served by one process only: were two processes to register
// replicas of it, their replica indexes would collide and callers would
// spread load over both without either process knowing. The first
// Register for a service therefore creates its owner key, in a transaction
// that succeeds only if the key is absent (create revision 0); later
// registrations by the same process pass because the owner key carries
// their lease. Another process gets ErrOwned, with the owner's host and
// pid. The owner key is deleted when the process's last replica of the
// service is withdrawn, and with the lease.
//
// # Watching
//
// Watch reads the replicas of a service, then watches their keys from the
// revision after that read, so that no change falls between the two, and
// calls back with the sorted list of replica URLs after every change,
// including the change to none. Values that are not JSON with an http or
// https URL are skipped with a warning that names the key. Reconnection
// to etcd is left to the etcd client, which resumes the watch where it
// stopped. WaitFor waits until a service has at least one replica, and
// says which command would serve it when none appears in time.
//
// A lease that etcd lets expire (etcd unreachable for longer than the TTL)
// takes the process's replicas out of the registry; a warning says so, and
// the process registers them again under a new lease as soon as etcd
// answers, retrying with backoff, and says when it has. A service that
// another process claimed meanwhile is left to it, with a warning that
// names that process: its replicas here stay unregistered.
//
// A Registration's Close makes its etcd request without holding the
// Registry's lock, so that the replicas of a process withdraw at once:
// with etcd gone, closing them all takes one DialTimeout, not one each.
// A Register of a key whose withdrawal is under way waits for it.
package registry
