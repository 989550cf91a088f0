// Value tables of the synthetic Santander data: the 52 provinces with their
// codes and names exactly as the real files spell them, joining channels,
// countries and the other categorical values, each with the weights the
// generator draws them with.
//
//   const Province& p = kProvinces[rng.Pick(ProvinceWeights(), kNumProvinces)];
//   std::cout << p.code << " " << p.name;  // 15 CORUÑA, A
#ifndef RECSYS_TRAINING_GEN_TABLES_H_
#define RECSYS_TRAINING_GEN_TABLES_H_

#include "absl/strings/string_view.h"

namespace recsys::gen {

struct Province {
  int code;                // cod_prov, 1..52
  absl::string_view name;  // nomprov, e.g. "CORUÑA, A"
  double weight;           // share of customers (relative)
  double income;           // renta multiplier of the province (1 = median)
};

inline constexpr int kNumProvinces = 52;
extern const Province kProvinces[kNumProvinces];
// kProvinces[i].weight as a plain array (for Rng::Pick).
const double* ProvinceWeights();

// A categorical value with a weight per customer cohort.
struct Channel {
  absl::string_view code;  // canal_entrada, e.g. "KHE"
  double student;          // weight among student-campaign customers
  double recent;           // weight among customers who joined since 2014
  double established;      // weight among older customers
};

inline constexpr int kNumChannels = 48;
extern const Channel kChannels[kNumChannels];

// The channel that --drift pushes the test month toward (rare otherwise).
inline constexpr absl::string_view kDriftChannel = "KHO";

struct Country {
  absl::string_view code;  // pais_residencia, ISO 3166 alpha-2
  double weight;
};

inline constexpr int kNumCountries = 30;
extern const Country kCountries[kNumCountries];  // kCountries[0] is "ES"

inline constexpr absl::string_view kSegmentTop = "01 - TOP";
inline constexpr absl::string_view kSegmentParticulares = "02 - PARTICULARES";
inline constexpr absl::string_view kSegmentUniversitario = "03 - UNIVERSITARIO";

// ind_empleado: N for almost everyone.
inline constexpr absl::string_view kEmployeeIndex[] = {"N", "A", "B", "F", "S"};
inline constexpr double kEmployeeIndexWeights[] = {99930, 18, 26, 18, 0.2};

// Every value the generator may write in each categorical column (for tests).
bool IsGeneratedChannel(absl::string_view code);
bool IsGeneratedCountry(absl::string_view code);
const Province* FindProvince(int code);

}  // namespace recsys::gen

#endif  // RECSYS_TRAINING_GEN_TABLES_H_
