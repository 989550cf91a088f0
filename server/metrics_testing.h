// Test helpers for the metrics tests (server/metrics_test.cc and the
// end-to-end tests in tests/): a plain HTTP GET over a socket, a parser of the
// Prometheus text exposition format, and `promtool check metrics`.
//
//   absl::StatusOr<std::string> text = HttpGet(port, "/metrics");
//   Exposition samples = ParseExposition(*text);
//   std::optional<double> rows = samples.Value("recsys_rows_scored_total");
//   EXPECT_EQ(PromtoolCheckMetrics(*text), "");
#ifndef RECSYS_SERVER_METRICS_TESTING_H_
#define RECSYS_SERVER_METRICS_TESTING_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace recsys::metrics_testing {

// GET http://127.0.0.1:<port><path> (HTTP/1.0); the body of a 200 response.
// With timeout_seconds > 0, a receive that waits longer fails the GET.
inline absl::StatusOr<std::string> HttpGet(int port, const std::string& path,
                                           int timeout_seconds = 0) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::InternalError("socket() failed");
  if (timeout_seconds > 0) {
    timeval tv{};
    tv.tv_sec = timeout_seconds;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return absl::UnavailableError(
        absl::StrCat("cannot connect to port ", port));
  }
  const std::string request =
      absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
  if (send(fd, request.data(), request.size(), 0) !=
      static_cast<ssize_t>(request.size())) {
    close(fd);
    return absl::InternalError("send() failed");
  }
  std::string response;
  char buf[65536];
  for (ssize_t n; (n = recv(fd, buf, sizeof(buf), 0)) > 0;)
    response.append(buf, n);
  close(fd);
  const size_t body = response.find("\r\n\r\n");
  if (response.rfind("HTTP/1.", 0) != 0 || body == std::string::npos) {
    return absl::InternalError("malformed HTTP response");
  }
  if (response.find(" 200 ") > response.find("\r\n")) {
    return absl::InternalError(absl::StrCat(
        "HTTP status: ", response.substr(0, response.find("\r\n"))));
  }
  return response.substr(body + 4);
}

// One sample line: name{labels} value.
struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct Exposition {
  std::vector<Sample> samples;

  // The samples named `name` whose labels include all of `labels`.
  std::vector<Sample> Find(
      const std::string& name,
      const std::map<std::string, std::string>& labels = {}) const {
    std::vector<Sample> out;
    for (const Sample& s : samples) {
      if (s.name != name) continue;
      bool match = true;
      for (const auto& [k, v] : labels) {
        auto it = s.labels.find(k);
        if (it == s.labels.end() || it->second != v) match = false;
      }
      if (match) out.push_back(s);
    }
    return out;
  }
  // The value of the one sample with exactly `labels`; nullopt when absent.
  std::optional<double> Value(
      const std::string& name,
      const std::map<std::string, std::string>& labels = {}) const {
    for (const Sample& s : samples) {
      if (s.name == name && s.labels == labels) return s.value;
    }
    return std::nullopt;
  }
  // Sum of the values of Find(name, labels).
  double Sum(const std::string& name,
             const std::map<std::string, std::string>& labels = {}) const {
    double sum = 0;
    for (const Sample& s : Find(name, labels)) sum += s.value;
    return sum;
  }
};

// Parses the text format (comments skipped). Malformed lines are skipped.
inline Exposition ParseExposition(absl::string_view text) {
  Exposition out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == absl::string_view::npos) end = text.size();
    absl::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty() || line[0] == '#') continue;
    Sample s;
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    s.name = std::string(line.substr(0, i));
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        const size_t eq = line.find('=', i);
        if (eq == absl::string_view::npos || eq + 1 >= line.size()) break;
        std::string key(line.substr(i, eq - i));
        std::string value;
        size_t j = eq + 2;  // after ="
        for (; j < line.size() && line[j] != '"'; ++j) {
          if (line[j] == '\\' && j + 1 < line.size()) {
            ++j;
            value += line[j] == 'n' ? '\n' : line[j];
          } else {
            value += line[j];
          }
        }
        s.labels[key] = value;
        i = j + 1;
        if (i < line.size() && line[i] == ',') ++i;
      }
      ++i;  // '}'
    }
    absl::string_view rest = i < line.size() ? line.substr(i) : "";
    while (!rest.empty() && rest[0] == ' ') rest.remove_prefix(1);
    rest = rest.substr(0, rest.find(' '));  // drop a timestamp
    if (rest == "+Inf") {
      s.value = HUGE_VAL;
    } else if (!absl::SimpleAtod(rest, &s.value)) {
      continue;
    }
    out.samples.push_back(std::move(s));
  }
  return out;
}

// Path of promtool, or "" when it is not installed.
inline std::string PromtoolPath() {
  for (const char* p : {"/usr/bin/promtool", "/usr/local/bin/promtool"}) {
    if (access(p, X_OK) == 0) return p;
  }
  return "";
}

// Runs `promtool check metrics` on `text`; returns what it printed (stdout
// and stderr), "" when it found nothing. REQUIRES: PromtoolPath() != "".
inline std::string PromtoolCheckMetrics(const std::string& text) {
  char path[] = "/tmp/recsys_metrics_XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) return "mkstemp failed";
  const bool written =
      write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  std::string out = written ? "" : "write failed";
  const std::string command =
      absl::StrCat(PromtoolPath(), " check metrics < ", path, " 2>&1");
  if (FILE* pipe = popen(command.c_str(), "r"); pipe != nullptr) {
    char buf[4096];
    for (size_t n; (n = fread(buf, 1, sizeof(buf), pipe)) > 0;)
      out.append(buf, n);
    if (pclose(pipe) != 0 && out.empty()) out = "promtool failed";
  }
  unlink(path);
  return out;
}

}  // namespace recsys::metrics_testing

#endif  // RECSYS_SERVER_METRICS_TESTING_H_
