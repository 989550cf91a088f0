// Synthetic customers: who they are (a static profile drawn once from the
// seed and the customer's index) and what their demographic columns say in a
// given month.
//
// Customers are numbered 0..N-1 in the order of their fecha_alta, and their
// ncodpers grow with the index, as in the real files. About 65% of them are
// in the first month (2015-01-28); about 21% more, who were customers
// already, appear in July 2015 (as in the real train file); the rest join
// month by month with a fresh fecha_alta (ind_nuevo 1). A few leave, a few
// miss one month and come back, a few have every demographic field missing
// in their first months (the real file's empty rows).
//
//   CustomerProfile p = MakeProfile(seed, index, customers);
//   if (p.PresentIn(month)) FillDemographics(p, seed, index, month, active,
//                                            &record, &spelling);
#ifndef RECSYS_TRAINING_GEN_CUSTOMER_H_
#define RECSYS_TRAINING_GEN_CUSTOMER_H_

#include <cstdint>

#include "common/date.h"
#include "common/raw_record.h"
#include "training/raw_writer.h"

namespace recsys::gen {

// Months are numbered 0 (2015-01-28) .. 17 (2016-06-28, the test month).
inline constexpr int kTrainMonths = 17;
inline constexpr int kTestMonth = 17;
inline constexpr int kNumMonths = 18;

// fecha_dato of `month` (may be negative for months before the data).
Date MonthDate(int month);

enum class Cohort : uint8_t {
  kEstablished,  // customer since before 2014, joined at a branch
  kStudent,      // joined in a university campaign (Aug-Oct 2012..2015)
  kRecent,       // joined since 2014 through any channel
};

enum class Segment : uint8_t { kMissing, kTop, kParticulares, kUniversitario };

// Everything about a customer that does not change month to month (age
// grows with the calendar); 48 bytes.
struct CustomerProfile {
  int64_t ncodpers = 0;
  double renta = 0;               // gross household income; see renta_missing
  Date alta;                      // fecha_alta
  float propensity = 0;           // latent N(0,1): how much this customer buys
  int8_t first_month = 0;         // first month in the files
  int8_t end_month = kNumMonths;  // first month no longer in the files
  int8_t gap_month = -1;          // a month missing from the files, or -1
  int8_t blank_until = -1;  // every demographic field empty before this month
  int8_t age0 = 0;  // age in January 2015 (may be < 2 for later joiners)
  int8_t birthday_shift = 0;  // 0..11: age grows in month (12 - shift) % 12
  Cohort cohort = Cohort::kEstablished;
  Segment segment = Segment::kParticulares;
  uint8_t province = 0;  // cod_prov, 0 when missing
  uint8_t channel = 0;   // index into kChannels, 255 when missing
  uint8_t country = 0;   // index into kCountries
  uint8_t employee = 0;  // index into kEmployeeIndex
  char sexo = 'H';       // 'H', 'V', or 0 when missing
  char conyuemp = 0;     // 'N', 'S' or 0 (mostly missing)
  bool renta_missing = false;
  bool foreigner = false;      // indext S
  bool deceased = false;       // indfall S
  bool bad_seniority = false;  // antiguedad written as -999999

  bool PresentIn(int month) const {
    return month >= first_month && month < end_month && month != gap_month;
  }
  // Age in `month`.
  int AgeIn(int month) const {
    const int shifted = month + birthday_shift;  // floor division below
    return age0 + (shifted >= 0 ? shifted / 12 : -((11 - shifted) / 12));
  }
  // Whole months from fecha_alta to fecha_dato of `month` (0 in the month
  // of joining).
  int SeniorityIn(int month) const;
  bool Resident() const { return country == 0; }
};

// The profile of customer `index` (0-based) of `customers`.
// REQUIRES: 0 <= index < customers.
CustomerProfile MakeProfile(uint64_t seed, int64_t index, int64_t customers);

// Overwrites the 24 demographic fields of `*record` (not the products) for
// `month`, and chooses the row's spellings. `active` is the customer's
// activity this month (ind_actividad_cliente).
void FillDemographics(const CustomerProfile& profile, uint64_t seed,
                      int64_t index, int month, bool active, RawRecord* record,
                      RawSpelling* spelling);

// --drift: what changes in the test month. Each customer is drawn into each
// change independently (from its own stream, so the rest of the data is the
// same with and without drift).
//
// The shares and sizes are chosen so that every changed column moves well
// past the 0.25 PSI alert line with decile reference bins (measured on a
// 12,000-customer month: age 0.53, renta 0.52, canal_entrada 0.61,
// segmento 0.44), as an operator would see after a marketing campaign that
// brings in a different kind of customer.
struct DriftChanges {
  double older_share = 0.35;   // age redrawn uniformly in [65, 90]
  double richer_share = 0.40;  // renta x 5 (when present)
  double channel_share = 0.30;  // canal_entrada becomes kDriftChannel
  double top_share = 0.30;      // "02 - PARTICULARES" becomes "01 - TOP"
};

// Applies the drift changes to the demographic fields of a test-month row.
void ApplyDrift(const DriftChanges& changes, uint64_t seed, int64_t index,
                RawRecord* record);

}  // namespace recsys::gen

#endif  // RECSYS_TRAINING_GEN_CUSTOMER_H_
