// Elapsed wall-clock time, for timings, logs and metrics.
//
//   const auto start = std::chrono::steady_clock::now();
//   Work();
//   metrics->Observe(SecondsSince(start));
#ifndef RECSYS_COMMON_ELAPSED_H_
#define RECSYS_COMMON_ELAPSED_H_

#include <chrono>

namespace recsys {

// Seconds from `start` to now on the steady (monotonic) clock.
inline double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                       start)
      .count();
}

}  // namespace recsys

#endif  // RECSYS_COMMON_ELAPSED_H_
