#include "client/load_report.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace recsys {
namespace {

double Millis(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

}  // namespace

int64_t NearestRankPercentile(const std::vector<int64_t>& sorted,
                              double fraction) {
  if (sorted.empty()) return 0;
  const double n = static_cast<double>(sorted.size());
  // ceil(fraction * n), computed so that e.g. 0.999 * 1000 is exactly 999.
  int64_t rank = static_cast<int64_t>(std::ceil(fraction * n - 1e-9));
  rank = std::clamp<int64_t>(rank, 1, static_cast<int64_t>(sorted.size()));
  return sorted[rank - 1];
}

LatencySummary SummarizeLatencies(std::vector<int64_t> nanos) {
  LatencySummary s;
  if (nanos.empty()) return s;
  std::sort(nanos.begin(), nanos.end());
  s.count = static_cast<int64_t>(nanos.size());
  s.min = absl::Nanoseconds(nanos.front());
  s.max = absl::Nanoseconds(nanos.back());
  const long double sum =
      std::accumulate(nanos.begin(), nanos.end(), static_cast<long double>(0));
  s.mean = absl::Nanoseconds(static_cast<double>(sum / nanos.size()));
  s.p50 = absl::Nanoseconds(NearestRankPercentile(nanos, 0.50));
  s.p90 = absl::Nanoseconds(NearestRankPercentile(nanos, 0.90));
  s.p99 = absl::Nanoseconds(NearestRankPercentile(nanos, 0.99));
  s.p999 = absl::Nanoseconds(NearestRankPercentile(nanos, 0.999));
  return s;
}

double LoadReport::rows_per_second() const {
  const double seconds = absl::ToDoubleSeconds(elapsed);
  return seconds > 0 ? rows_scored / seconds : 0;
}

std::string LoadReport::ToText() const {
  std::string text = absl::StrFormat(
      "mode %s, %d %s", mode, concurrency,
      mode == "stream" ? (concurrency == 1 ? "stream" : "streams")
                       : (concurrency == 1 ? "caller" : "callers"));
  if (target_rate > 0)
    absl::StrAppendFormat(&text, " at %.0f calls/s", target_rate);
  absl::StrAppendFormat(&text, ": %d rows scored in %.2f s = %.1f rows/s",
                        rows_scored, absl::ToDoubleSeconds(elapsed),
                        rows_per_second());
  if (mode != "stream") absl::StrAppendFormat(&text, " (%d calls)", calls);
  absl::StrAppendFormat(
      &text, "\nclient CPU: %.2f s (%.1f us per row)\n", client_cpu_seconds,
      rows_scored > 0 ? 1e6 * client_cpu_seconds / rows_scored : 0.0);
  absl::StrAppend(&text, "errors: ", errors);
  for (const auto& [code, count] : errors_by_code) {
    absl::StrAppend(&text, "  ", code, " ", count);
  }
  absl::StrAppend(&text, "\n");
  if (latency.count > 0) {
    absl::StrAppendFormat(
        &text,
        "latency ms: p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f  "
        "(mean %.3f over %d calls)\n",
        Millis(latency.p50), Millis(latency.p90), Millis(latency.p99),
        Millis(latency.p999), Millis(latency.max), Millis(latency.mean),
        latency.count);
  }
  if (send_latency.count > 0) {
    absl::StrAppendFormat(
        &text,
        "latency from the actual send ms: p50 %.3f  p90 %.3f  p99 %.3f  "
        "p99.9 %.3f  max %.3f\n",
        Millis(send_latency.p50), Millis(send_latency.p90),
        Millis(send_latency.p99), Millis(send_latency.p999),
        Millis(send_latency.max));
  }
  return text;
}

nlohmann::json LoadReport::ToJson() const {
  nlohmann::json json = {
      {"mode", mode},
      {"concurrency", concurrency},
      {"target_rate", target_rate},
      {"calls", calls},
      {"rows_scored", rows_scored},
      {"errors", errors},
      {"errors_by_code", errors_by_code},
      {"elapsed_seconds", absl::ToDoubleSeconds(elapsed)},
      {"rows_per_second", rows_per_second()},
      {"client_cpu_seconds", client_cpu_seconds},
  };
  auto summary = [](const LatencySummary& l) {
    return nlohmann::json{
        {"count", l.count},        {"min", Millis(l.min)},
        {"mean", Millis(l.mean)},  {"p50", Millis(l.p50)},
        {"p90", Millis(l.p90)},    {"p99", Millis(l.p99)},
        {"p99_9", Millis(l.p999)}, {"max", Millis(l.max)},
    };
  };
  if (latency.count > 0) json["latency_ms"] = summary(latency);
  if (send_latency.count > 0) json["send_latency_ms"] = summary(send_latency);
  return json;
}

}  // namespace recsys
