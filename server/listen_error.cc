#include "server/listen_error.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"

namespace recsys {

bool PortInUse(absl::string_view host, int port) {
  if (port <= 0) return false;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port_text = absl::StrCat(port);
  const std::string host_text(host);
  if (getaddrinfo(host_text.empty() ? nullptr : host_text.c_str(),
                  port_text.c_str(), &hints, &found) != 0) {
    return false;
  }
  bool in_use = false;
  for (addrinfo* a = found; a != nullptr && !in_use; a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd < 0) continue;
    // As gRPC and civetweb do: SO_REUSEADDR (TIME_WAIT sockets do not
    // count), no SO_REUSEPORT.
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, a->ai_addr, a->ai_addrlen) != 0 && errno == EADDRINUSE) {
      in_use = true;
    }
    close(fd);
  }
  freeaddrinfo(found);
  return in_use;
}

absl::Status PortInUseError(absl::string_view what, absl::string_view host,
                            int port, absl::string_view flag) {
  return absl::UnavailableError(absl::StrCat(
      what, " port ", port, " on ", host,
      " is already in use (another recsys-server?); stop it or choose "
      "another port with ",
      flag));
}

}  // namespace recsys
