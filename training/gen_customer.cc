#include "training/gen_customer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "training/gen_random.h"
#include "training/gen_tables.h"

namespace recsys::gen {
namespace {

constexpr int kFirstMonthIndex = 2015 * 12;  // January 2015

// Share of customers whose first month is m (for m >= 1, customers with a
// fresh fecha_alta in that month); month 0 takes the rest. Shaped after the
// real monthly row counts (625k in January 2015 growing to 931k in May 2016,
// with a jump in July 2015 that kJulyWave* below produce).
constexpr double kNewJoinerShare[kNumMonths] = {
    0,     0.0025, 0.0025, 0.0025, 0.0025, 0.0025, 0.004,  0.015,  0.024,
    0.029, 0.016,  0.0075, 0.006,  0.006,  0.0055, 0.0045, 0.0045, 0.004};
constexpr int kJulyMonth = 6;
// Probability that an existing customer first appears in July 2015.
constexpr double kJulyWaveStudent = 0.35;
constexpr double kJulyWaveOther = 0.20;

// Daily densities of fecha_alta for customers who joined before the data:
// established customers spread over 1995..2014 (more each year), and the
// university campaigns of August to October 2012, 2013 and 2014.
struct AltaTable {
  int64_t first_day = 0;       // days since epoch of 1995-01-16
  std::vector<double> cum;     // cumulative weight per day
  std::vector<float> student;  // share of students among that day's joiners
};

const AltaTable& PreexistingAlta() {
  static const AltaTable* table = [] {
    auto* t = new AltaTable;
    const Date start{1995, 1, 16};
    const Date end = MonthDate(0);
    t->first_day = start.DaysSinceEpoch();
    const int64_t days = end.DaysSinceEpoch() - t->first_day + 1;
    std::vector<double> established(days), student(days, 0.0);
    for (int64_t d = 0; d < days; ++d) {
      const double year = 1995.0 + static_cast<double>(d) / 365.25;
      established[d] = 1.0 + 0.15 * (year - 1995.0);
    }
    const struct {
      int year;
      double mass;
    } kCampaigns[] = {{2012, 0.10}, {2013, 0.17}, {2014, 0.11}};
    double established_total = 0;
    for (double w : established) established_total += w;
    for (double& w : established) w *= 0.62 / established_total;
    for (const auto& c : kCampaigns) {
      const int64_t from =
          Date{static_cast<int16_t>(c.year), 8, 5}.DaysSinceEpoch();
      const int64_t to =
          Date{static_cast<int16_t>(c.year), 10, 10}.DaysSinceEpoch();
      const double per_day = c.mass / static_cast<double>(to - from + 1);
      for (int64_t d = from; d <= to; ++d) student[d - t->first_day] += per_day;
      if (c.year == 2012) {  // the big migration day of the real file
        student[Date{2012, 8, 10}.DaysSinceEpoch() - t->first_day] +=
            0.4 * c.mass;
      }
    }
    t->cum.resize(days);
    t->student.resize(days);
    double total = 0;
    for (int64_t d = 0; d < days; ++d) {
      total += established[d] + student[d];
      t->cum[d] = total;
      t->student[d] =
          static_cast<float>(student[d] / (established[d] + student[d]));
    }
    return t;
  }();
  return *table;
}

Date DateFromDays(int64_t days) {
  // Howard Hinnant's civil_from_days.
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
  return Date{static_cast<int16_t>(y), static_cast<int8_t>(m),
              static_cast<int8_t>(d)};
}

int Clamp(double v, int lo, int hi) {
  return static_cast<int>(
      std::clamp(std::lround(v), static_cast<long>(lo), static_cast<long>(hi)));
}

// Age in January 2015 for a customer who joined `years_ago` years before.
int DrawAge(Cohort cohort, double years_ago, Rng& rng) {
  if (cohort == Cohort::kStudent) {
    const double at_alta = rng.Bernoulli(0.9)
                               ? 18.0 + std::fabs(rng.Normal()) * 2.2
                               : rng.Uniform(23, 45);
    return Clamp(at_alta + years_ago, 2, 98);
  }
  const double junior_share = cohort == Cohort::kRecent ? 0.10 : 0.04;
  if (years_ago < 12 && rng.Bernoulli(junior_share)) {
    return rng.Int(std::max(2, static_cast<int>(years_ago) + 1), 17);
  }
  if (cohort == Cohort::kRecent && rng.Bernoulli(0.35)) return rng.Int(18, 30);
  const double age =
      rng.Bernoulli(0.85) ? 46 + 12 * rng.Normal() : 72 + 8 * rng.Normal();
  return Clamp(std::max(age, years_ago + 18), 18, 98);
}

int DrawProvince(Cohort cohort, Rng& rng) {
  if (cohort != Cohort::kStudent)
    return kProvinces[rng.Pick(ProvinceWeights(), kNumProvinces)].code;
  // The campaigns were strongest around a few universities.
  double w[kNumProvinces];
  for (int i = 0; i < kNumProvinces; ++i) {
    const int code = kProvinces[i].code;
    const double boost = code == 45                                 ? 8
                         : (code == 37 || code == 13 || code == 16) ? 4
                                                                    : 1;
    w[i] = kProvinces[i].weight * boost;
  }
  return kProvinces[rng.Pick(w, kNumProvinces)].code;
}

int DrawChannel(Cohort cohort, Rng& rng) {
  double w[kNumChannels];
  for (int i = 0; i < kNumChannels; ++i) {
    const Channel& c = kChannels[i];
    w[i] = cohort == Cohort::kStudent  ? c.student
           : cohort == Cohort::kRecent ? c.recent
                                       : c.established;
  }
  return rng.Pick(w, kNumChannels);
}

}  // namespace

Date MonthDate(int month) {
  return DateFromMonthIndex(kFirstMonthIndex + month, 28);
}

int CustomerProfile::SeniorityIn(int month) const {
  const Date fecha = MonthDate(month);
  return fecha.MonthIndex() - alta.MonthIndex() -
         (fecha.day < alta.day ? 1 : 0);
}

CustomerProfile MakeProfile(uint64_t seed, int64_t index, int64_t customers) {
  Rng rng(StreamSeed(seed, static_cast<uint64_t>(index), 0, kStreamProfile));
  CustomerProfile p;
  p.ncodpers = 15889 + index * 8 / 5;

  // fecha_alta and the first month follow from the index (see header).
  double joiners = 0;
  for (double s : kNewJoinerShare) joiners += s;
  const double u =
      (static_cast<double>(index) + 0.5) / static_cast<double>(customers);
  const double preexisting = 1.0 - joiners;
  if (u < preexisting) {
    const AltaTable& t = PreexistingAlta();
    const double target = u / preexisting * t.cum.back();
    const int64_t d =
        std::lower_bound(t.cum.begin(), t.cum.end(), target) - t.cum.begin();
    p.alta = DateFromDays(t.first_day + d);
    p.cohort = rng.Bernoulli(t.student[d]) ? Cohort::kStudent
               : p.alta.year >= 2014       ? Cohort::kRecent
                                           : Cohort::kEstablished;
    const double wave =
        p.cohort == Cohort::kStudent ? kJulyWaveStudent : kJulyWaveOther;
    p.first_month = rng.Bernoulli(wave) ? kJulyMonth : 0;
  } else {
    double start = preexisting;
    int m = 1;
    while (m < kNumMonths - 1 && u >= start + kNewJoinerShare[m])
      start += kNewJoinerShare[m++];
    const double within =
        std::clamp((u - start) / kNewJoinerShare[m], 0.0, 0.999999);
    const int64_t from = MonthDate(m - 1).DaysSinceEpoch() + 1;
    const int64_t to = MonthDate(m).DaysSinceEpoch();
    p.alta =
        DateFromDays(from + static_cast<int64_t>(
                                within * static_cast<double>(to - from + 1)));
    p.first_month = static_cast<int8_t>(m);
    const bool campaign = p.alta.month >= 8 && p.alta.month <= 10;
    p.cohort =
        campaign && rng.Bernoulli(0.6) ? Cohort::kStudent : Cohort::kRecent;
  }

  // Leaving, a missing month, empty rows.
  p.propensity = static_cast<float>(rng.Normal());
  const double leave_hazard = 0.0012 * std::exp(-0.5 * p.propensity);
  for (int m = p.first_month + 1; m < kNumMonths; ++m) {
    if (rng.Bernoulli(leave_hazard)) {
      p.end_month = static_cast<int8_t>(m);
      break;
    }
  }
  if (rng.Bernoulli(0.012) && p.first_month < kTrainMonths - 1) {
    p.gap_month =
        static_cast<int8_t>(rng.Int(p.first_month + 1, kTrainMonths - 1));
  }
  if (rng.Bernoulli(0.004))
    p.blank_until = static_cast<int8_t>(p.first_month + rng.Int(1, 6));

  // Demographics.
  const double years_ago = static_cast<double>(MonthDate(0).DaysSinceEpoch() -
                                               p.alta.DaysSinceEpoch()) /
                           365.25;
  p.age0 = static_cast<int8_t>(DrawAge(p.cohort, years_ago, rng));
  p.birthday_shift = static_cast<int8_t>(rng.Int(0, 11));
  if (!rng.Bernoulli(0.9956)) {  // a resident of another country
    double weights[kNumCountries];
    for (int i = 0; i < kNumCountries; ++i)
      weights[i] = i == 0 ? 0 : kCountries[i].weight;
    p.country = static_cast<uint8_t>(rng.Pick(weights, kNumCountries));
  }
  p.foreigner = p.Resident()
                    ? rng.Bernoulli(p.cohort == Cohort::kStudent ? 0.025 : 0.05)
                    : rng.Bernoulli(0.9);
  const bool no_province =
      p.Resident() ? rng.Bernoulli(0.003) : rng.Bernoulli(0.8);
  p.province =
      no_province ? 0 : static_cast<uint8_t>(DrawProvince(p.cohort, rng));
  p.channel = rng.Bernoulli(0.012)
                  ? 255
                  : static_cast<uint8_t>(DrawChannel(p.cohort, rng));
  p.sexo = rng.Bernoulli(0.0005) ? 0 : rng.Bernoulli(0.54) ? 'H' : 'V';
  p.employee = static_cast<uint8_t>(rng.Pick(kEmployeeIndexWeights, 5));
  p.conyuemp = rng.Bernoulli(0.9998) ? 0 : rng.Bernoulli(0.8) ? 'N' : 'S';
  p.deceased = rng.Bernoulli(p.age0 > 70 ? 0.02 : 0.0015);
  p.bad_seniority = rng.Bernoulli(0.0002);

  const double income = p.province ? kProvinces[p.province - 1].income : 1.0;
  // Lognormal around a regional median, with a heavier tail of rich
  // households (the real maximum is 28.9 million).
  double log_renta =
      std::log(90000.0 * income) + 0.55 * rng.Normal() + 0.08 * p.propensity;
  if (rng.Bernoulli(0.02)) log_renta += 1.5 * std::fabs(rng.Normal());
  const double cents =
      std::round(std::clamp(std::exp(log_renta), 1202.73, 28894395.51) * 100);
  p.renta =
      cents * 0.01;  // float artifacts such as 122179.11000000002, as real
  const double missing_renta = p.cohort == Cohort::kRecent ? 0.25 : 0.19;
  p.renta_missing = rng.Bernoulli(missing_renta);

  const double relative_income = std::log(p.renta / 90000.0);
  if (rng.Bernoulli(0.012)) {
    p.segment = Segment::kMissing;
  } else if (p.cohort == Cohort::kStudent) {
    p.segment =
        rng.Bernoulli(0.92) ? Segment::kUniversitario : Segment::kParticulares;
  } else if (p.age0 < 18) {
    p.segment = Segment::kParticulares;
  } else if (p.age0 < 27 && p.cohort == Cohort::kRecent &&
             rng.Bernoulli(0.35)) {
    p.segment = Segment::kUniversitario;
  } else {
    const double top =
        Sigmoid(-3.6 + 1.6 * relative_income + 0.02 * (p.age0 - 45));
    p.segment = rng.Bernoulli(top) ? Segment::kTop : Segment::kParticulares;
  }
  return p;
}

namespace {

void SetText(TextField* field, absl::string_view text) {
  field->state = FieldState::kPresent;
  // resize + memcpy rather than assign(): GCC 12 warns wrongly (-Wrestrict)
  // about assign() of short literals.
  field->value.resize(text.size());
  if (!text.empty()) std::memcpy(field->value.data(), text.data(), text.size());
}

void SetFlag(TextField* field, bool yes) { SetText(field, yes ? "S" : "N"); }

void ClearDemographics(RawRecord* r) {
  for (TextField* f :
       {&r->ind_empleado, &r->pais_residencia, &r->sexo, &r->indrel_1mes,
        &r->tiprel_1mes, &r->indresi, &r->indext, &r->conyuemp,
        &r->canal_entrada, &r->indfall, &r->nomprov, &r->segmento}) {
    f->state = FieldState::kMissing;
  }
  for (IntField* f : {&r->age, &r->ind_nuevo, &r->antiguedad, &r->indrel,
                      &r->tipodom, &r->cod_prov, &r->ind_actividad_cliente}) {
    f->state = FieldState::kMissing;
  }
  r->fecha_alta.state = FieldState::kMissing;
  r->ult_fec_cli_1t.state = FieldState::kMissing;
  r->renta.state = FieldState::kMissing;
}

absl::string_view SegmentText(Segment s) {
  switch (s) {
    case Segment::kTop:
      return kSegmentTop;
    case Segment::kParticulares:
      return kSegmentParticulares;
    case Segment::kUniversitario:
      return kSegmentUniversitario;
    case Segment::kMissing:
      break;
  }
  return "";
}

}  // namespace

void FillDemographics(const CustomerProfile& p, uint64_t seed, int64_t index,
                      int month, bool active, RawRecord* r,
                      RawSpelling* spelling) {
  Rng rng(StreamSeed(seed, static_cast<uint64_t>(index),
                     static_cast<uint64_t>(month), kStreamMonth));
  ClearDemographics(r);
  r->fecha_dato.Set(MonthDate(month));
  r->ncodpers.Set(p.ncodpers);
  spelling->indrel_1mes_decimal = false;
  if (month < p.blank_until) return;  // the real file's empty rows

  SetText(&r->ind_empleado, kEmployeeIndex[p.employee]);
  SetText(&r->pais_residencia, kCountries[p.country].code);
  if (p.sexo != 0) SetText(&r->sexo, absl::string_view(&p.sexo, 1));
  r->age.Set(p.AgeIn(month));
  r->fecha_alta.Set(p.alta);
  const int seniority = p.SeniorityIn(month);
  r->ind_nuevo.Set(seniority < 7 ? 1 : 0);
  r->antiguedad.Set(p.bad_seniority ? -999999 : seniority);

  // Primary customers; 99 = stops being primary this month (often before
  // leaving), with the date in ult_fec_cli_1t.
  const bool leaving = p.end_month < kNumMonths && month == p.end_month - 1;
  const bool stops = rng.Bernoulli(leaving ? 0.3 : 0.0015);
  r->indrel.Set(stops ? 99 : 1);
  if (stops) {
    Date d = MonthDate(month);
    d.day = static_cast<int8_t>(rng.Int(1, 28));
    r->ult_fec_cli_1t.Set(d);
  }

  // Customer type and relation at the start of the month.
  const double u = rng.Uniform();
  if (u >= 0.008) {
    absl::string_view type = u < 0.0083   ? "P"
                             : u < 0.0093 ? "3"
                             : u < 0.0094 ? "2"
                             : u < 0.0095 ? "4"
                                          : "1";
    SetText(&r->indrel_1mes, type);
    spelling->indrel_1mes_decimal = rng.Bernoulli(0.25);
    const double v = rng.Uniform();
    SetText(&r->tiprel_1mes, v < 0.0004    ? "R"
                             : v < 0.0007  ? "P"
                             : v < 0.00072 ? "N"
                             : active      ? "A"
                                           : "I");
  }
  SetFlag(&r->indresi, p.Resident());
  SetFlag(&r->indext, p.foreigner);
  if (p.conyuemp != 0) SetText(&r->conyuemp, absl::string_view(&p.conyuemp, 1));
  if (p.channel != 255) SetText(&r->canal_entrada, kChannels[p.channel].code);
  SetFlag(&r->indfall, p.deceased);
  r->tipodom.Set(1);
  if (p.province != 0) {
    r->cod_prov.Set(p.province);
    SetText(&r->nomprov, kProvinces[p.province - 1].name);
  }
  r->ind_actividad_cliente.Set(active ? 1 : 0);
  if (!p.renta_missing) r->renta.Set(p.renta);
  if (p.segment != Segment::kMissing)
    SetText(&r->segmento, SegmentText(p.segment));
}

void ApplyDrift(const DriftChanges& changes, uint64_t seed, int64_t index,
                RawRecord* r) {
  Rng rng(
      StreamSeed(seed, static_cast<uint64_t>(index), kTestMonth, kStreamDrift));
  const double older = rng.Uniform(), richer = rng.Uniform(),
               channel = rng.Uniform(), top = rng.Uniform();
  // Drawn after the four shares, so adding it changed none of them.
  const int retired_age = rng.Int(65, 90);
  if (r->age.present() && older < changes.older_share) {
    r->age.value = retired_age;
  }
  if (r->renta.present() && richer < changes.richer_share) r->renta.value *= 5;
  if (r->canal_entrada.present() && channel < changes.channel_share) {
    SetText(&r->canal_entrada, kDriftChannel);
  }
  if (r->segmento.present() && r->segmento.value == kSegmentParticulares &&
      top < changes.top_share) {
    SetText(&r->segmento, kSegmentTop);
  }
}

}  // namespace recsys::gen
