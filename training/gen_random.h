// The generator's own pseudo-random numbers: splitmix64, fully specified here
// so that a seed gives the same bytes with any standard library (std::
// distributions differ between library versions).
//
// Every random decision is drawn from a stream named by (seed, customer,
// month, purpose), so customers can be generated in any order and one
// purpose (e.g. --drift) never shifts the numbers another one sees.
//
//   Rng rng(StreamSeed(seed, customer, month, kStreamProducts));
//   if (rng.Bernoulli(0.03)) ...
#ifndef RECSYS_TRAINING_GEN_RANDOM_H_
#define RECSYS_TRAINING_GEN_RANDOM_H_

#include <cmath>
#include <cstdint>

namespace recsys::gen {

// One step of splitmix64 (Steele, Lea, Flood 2014).
inline uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// What a stream is used for; part of its seed.
enum Stream : uint64_t {
  kStreamProfile = 1,   // a customer's static attributes
  kStreamMonth = 2,     // month-to-month demographic changes and spellings
  kStreamProducts = 3,  // product ownership dynamics
  kStreamDrift = 4,     // --drift changes to the test month
};

// A seed for the stream of `customer` in `month` (use 0 for static
// attributes) for `stream`.
inline uint64_t StreamSeed(uint64_t seed, uint64_t customer, uint64_t month,
                           Stream stream) {
  uint64_t s = seed;
  uint64_t h = SplitMix64(&s);
  s = h ^ (customer * 0xd6e8feb86659fd93ULL);
  h = SplitMix64(&s);
  s = h ^ (month * 0xa0761d6478bd642fULL) ^
      (static_cast<uint64_t>(stream) << 56);
  return SplitMix64(&s);
}

// A small, fast generator. Not thread-safe; use one per stream.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}

  uint64_t Next() { return SplitMix64(&state_); }

  // Uniform in [0, 1), 53 random bits.
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

  // Uniform in [lo, hi).
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }

  // Uniform integer in [0, n). REQUIRES: n > 0.
  uint64_t Below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >>
                                 64);
  }

  // Uniform integer in [lo, hi]. REQUIRES: lo <= hi.
  int Int(int lo, int hi) {
    return lo + static_cast<int>(Below(static_cast<uint64_t>(hi - lo + 1)));
  }

  bool Bernoulli(double p) { return Uniform() < p; }

  // Standard normal (Box-Muller, one value per call).
  double Normal() {
    const double u1 = 1.0 - Uniform();  // (0, 1]
    const double u2 = Uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

  // Index drawn with probability proportional to weights[i].
  // REQUIRES: n > 0 and the weights are non-negative with a positive sum.
  template <typename W>
  int Pick(const W* weights, int n) {
    double total = 0;
    for (int i = 0; i < n; ++i) total += weights[i];
    double x = Uniform() * total;
    for (int i = 0; i < n; ++i) {
      x -= weights[i];
      if (x < 0) return i;
    }
    return n - 1;
  }

 private:
  uint64_t state_;
};

inline double Sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

}  // namespace recsys::gen

#endif  // RECSYS_TRAINING_GEN_RANDOM_H_
