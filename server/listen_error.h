// Plain words for "cannot listen": gRPC's BuildAndStart() and civetweb only
// say that they failed, not why. After such a failure, PortInUse() asks the
// kernel directly whether the port is taken, so that the operator reads
//
//   port 50051 on 127.0.0.1 is already in use (another recsys-server?)
//
// instead of an internal text.
//
//   if (server == nullptr && PortInUse(host, port))
//     return PortInUseError("gRPC", host, port, "--port");
//
// Pure functions; thread-safe.
#ifndef RECSYS_SERVER_LISTEN_ERROR_H_
#define RECSYS_SERVER_LISTEN_ERROR_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace recsys {

// True when binding a TCP socket to host:port fails with EADDRINUSE (without
// SO_REUSEPORT, as a second server would). False for port 0, a host that does
// not resolve, or any other outcome (the socket is closed at once).
bool PortInUse(absl::string_view host, int port);

// UNAVAILABLE: "<what> port PORT on HOST is already in use (another
// recsys-server?); stop it or choose another port with <flag>".
absl::Status PortInUseError(absl::string_view what, absl::string_view host,
                            int port, absl::string_view flag);

}  // namespace recsys

#endif  // RECSYS_SERVER_LISTEN_ERROR_H_
