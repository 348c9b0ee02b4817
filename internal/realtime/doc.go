// Package realtime is Bindery's live channel: an in-process hub that fans
// pipeline events out to WebSocket clients, and the /ws handler that speaks
// the protocol of CONTRACT.md §6.
//
// # Pieces
//
//   - Hub receives every event once (Publish, after the event is stored),
//     encodes it once, keeps a bounded window of recent events for replay,
//     and queues the shared bytes to each connected client allowed to read
//     the event's book. Publish never blocks on a client: a client whose
//     queue is full is closed with 1013 (try again later) and may resume.
//   - Handler is the http.Handler for /ws. It checks Host and Origin on
//     every upgrade, authenticates (session cookie with a same-origin
//     Origin, Authorization: Bearer, or a {"token": …} first frame within
//     5 s), sends state_sync, then answers client frames.
//   - The integrator supplies an Authenticator (credential → Viewer) and a
//     Backend (active runs, run control, run logs).
//
// # Writing
//
// On loopback and on a LAN, the write system call — the kernel's TCP work
// and the wake-up of the reader — is most of what a frame costs the
// server, so the hub spends as little as it can around it:
//
//   - Publish encodes an event once, WebSocket framing included (server
//     frames are not masked, so the bytes are the same for every client),
//     queues it to every reader under the hub's lock and returns.
//   - The fan-out then writes it to the clients that were idle, on one
//     goroutine per core taking the clients in turn, each with one write
//     that does not wait: no goroutine, timer or library call per client.
//   - Whatever cannot be written at once — a full socket buffer, a frame
//     cut short, state_sync, pongs, replays, closes — goes to a writer
//     goroutine of the client's own, which may wait (WriteTimeout) and
//     sends everything queued with one write: a client that falls behind
//     costs one system call per burst, not one per frame.
//
// Each event stays its own WebSocket message (CONTRACT.md §6); only the
// TCP writes are fewer. A client whose queue reaches QueueLimit is closed
// with 1013 and costs the others nothing.
//
// # Frame ids
//
// Event frames carry the event's stored id. Every other server frame
// (state_sync, pong, error, log_history) carries the id of the newest event
// the hub had published when the frame was queued: every event the
// connection may read up to that id has been queued before it. The
// numbers a connection sees therefore never decrease, and the id of the
// last frame received is always a correct resume point: reconnect with
// /ws?since=ID (or {"token": …, "since": ID}) to get exactly the events
// after it, in order, or a fresh state_sync when they are gone. Frames
// sent before authentication carry id 0 (an unauthenticated peer learns
// nothing about the event volume).
//
// # Resuming
//
// There are two ways to resume after a reconnect:
//
//   - At connect time, /ws?since=N or a token frame with "since": the
//     server sends, instead of state_sync, the missed events with id > N in
//     id order, then live events: no gap, no duplicate, no reordering. When
//     events after N are no longer retained (or N is unknown to this
//     server), a fresh state_sync is sent instead.
//   - In band, {"type":"resume","since":N} after state_sync: the server
//     sends the readable events with id > N that this connection has not
//     already been sent (neither in state_sync's history nor live), in id
//     order — no gap, no duplicate — but they arrive after the newer frames
//     already sent. When they are gone, a fresh state_sync.
//
// # Wiring
//
//	hub := realtime.NewHub(realtime.HubOptions{Logger: log})
//	recent, _ := events.RecentEvents(ctx, realtime.DefaultRetain)
//	hub.Preload(recent) // resume survives a restart
//	ws, err := realtime.NewHandler(realtime.HandlerOptions{
//		Hub: hub, Auth: viewerAuth, Backend: runs,
//		PublicURL: cfg.PublicURL, DashboardToken: cfg.DashboardToken,
//		OnAuthFailure: func(r *http.Request, reason string) time.Duration { /* audit, count */ },
//	})
//	mux.Handle("GET /ws", ws)
//	// after every EventStore.AppendEvent, in id order:   hub.Publish(e)
//	// when a role changes or a session/token is revoked:  hub.Disconnect(match)
//	// on shutdown, next to http.Server.Shutdown:          hub.Shutdown(ctx)
//
// viewerAuth wraps auth.Service.Authenticate and snapshots the principal's
// role and readable/writable book ids into a Viewer; runs wraps the run
// store and the pipeline. A brute-force guard goes in front of the handler
// (refuse blocked addresses) and behind OnAuthFailure, which counts only
// FailCredential (a credential presented and refused) as a sign-in
// failure: handshakes refused for their Origin or Host can be provoked by
// any web page the user visits, so they go to a limit of their own.
//
// # Multiple nodes
//
// Publish is the only way into a hub. With PostgreSQL, a Source that
// LISTENs for notifications and calls Publish will fan out events stored by
// other nodes; Publish ignores ids it has already seen, so at-least-once
// delivery from a Source is fine, but ids must arrive in increasing order.
//
// A client may resume on one node after an event it saw on another, which
// this node's Source has not read yet: HandlerOptions.CatchUp (the
// Source's read, cluster.Feed.WaitFor) is then called first, after
// authentication, so that the resume replays what follows instead of
// sending a state_sync. A Source's reads merge, so resumes cannot
// multiply the database's work.
package realtime
