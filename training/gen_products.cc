#include "training/gen_products.h"

#include <algorithm>
#include <cmath>

#include "training/gen_random.h"

namespace recsys::gen {
namespace {

enum : int {
  kAhor = 0,
  kAval,
  kCco,
  kCder,
  kCno,
  kCtju,
  kCtma,
  kCtop,
  kCtpp,
  kDeco,
  kDeme,
  kDela,
  kEcue,
  kFond,
  kHip,
  kPlan,
  kPres,
  kReca,
  kTjcr,
  kValo,
  kViv,
  kNomina,
  kNomPens,
  kRecibo,
};

constexpr ProductMask Bit(int p) { return ProductBit(p); }
constexpr ProductMask kOtherAccounts = Bit(kCtma) | Bit(kCtop) | Bit(kCtpp);

// Logit terms of the monthly hazard of adding a product the customer does
// not own, and the monthly probability of dropping an owned one.
struct Params {
  double base;        // intercept
  double active;      // + when ind_actividad_cliente is 1
  double propensity;  // x the customer's latent propensity
  double renta;       // x log(renta / 90000); 0 when renta is missing
  double top;         // + for "01 - TOP"
  double univ;        // + for "03 - UNIVERSITARIO"
  double age[5];      // + by age band: <20, 20-25, 26-45, 46-65, >65
  double with_cco;    // + when owning a current account
  double payroll;     // + when owning payroll (ind_nomina_ult1)
  double readd;       // + when dropped 1-3 months ago
  double fresh;       // + in the customer's first 6 months
  double drop;        // monthly drop probability
  double init;        // extra logit for the long-run initial ownership
};

// clang-format off
constexpr Params kParams[kNumProducts] = {
  //  base  act  prop renta  top  univ  age <20  20-25 26-45 46-65  >65   cco  payr readd fresh drop   init
  { -12.0, 0.0, 0.3, 0.3, 0.5,  0.0, {-5.0,  0.0,  0.0,  0.3,  0.3}, 0.0, 0.0, 2.0, 0.0, 0.010,   0.0},  // ahor
  { -12.5, 0.5, 0.3, 0.5, 1.0,  0.0, {-5.0, -2.0,  0.0,  0.5,  0.0}, 0.0, 0.0, 2.0, 0.0, 0.010,   0.0},  // aval
  {  -6.9, 0.6, 0.3, 0.0, 0.0,  0.3, { 0.0,  0.8,  0.3,  0.0, -0.4}, 0.0, 0.5, 2.5, 2.2, 0.003,   1.0},  // cco
  { -11.5, 0.3, 0.3, 0.5, 0.5,  0.0, {-5.0, -1.0,  0.0,  0.4,  0.3}, 0.0, 0.0, 2.0, 0.0, 0.010,   0.0},  // cder
  {  -7.7, 1.4, 0.4, 0.2, 0.3, -0.8, {-5.0, -0.6,  0.4,  0.3, -1.0}, 0.6, 1.6, 3.0, 0.5, 0.040,   0.0},  // cno
  {  -5.8, 0.0, 0.2, 0.0, 0.0,  0.0, { 0.0,-20.0,-20.0,-20.0,-20.0}, 0.5, 0.0, 2.0, 1.0, 0.004,   0.5},  // ctju
  {  -8.6, 1.0, 0.4, 0.2, 0.0, -0.5, {-5.0,  0.3,  0.6,  0.2, -0.5}, -0.2, 0.3, 2.0, 0.5, 0.030,   0.0},  // ctma
  {  -9.6, 0.8, 0.3, 0.3, 0.3, -1.0, {-5.0, -0.5,  0.2,  0.4,  0.4}, -1.5, 0.0, 2.0, 0.3, 0.002,   1.5},  // ctop
  {  -9.2, 0.8, 0.3, 0.6, 0.6, -1.0, {-5.0, -1.0,  0.0,  0.4,  0.5}, -1.0, 0.0, 2.0, 0.0, 0.006,   0.5},  // ctpp
  {  -9.3, 0.5, 0.4, 0.6, 0.6, -0.5, {-5.0, -1.0, -0.3,  0.4,  0.7}, 0.0, 0.0, 1.5, 0.5, 0.120,   0.0},  // deco
  {  -9.8, 0.5, 0.4, 0.6, 0.5, -1.0, {-5.0, -1.0, -0.3,  0.4,  0.8}, 0.0, 0.0, 1.5, 0.0, 0.050,   0.0},  // deme
  {  -8.2, 0.6, 0.4, 0.8, 1.0, -1.2, {-5.0, -1.2, -0.2,  0.6,  1.0}, 0.2, 0.2, 1.5, 0.0, 0.015,   0.0},  // dela
  {  -7.7, 1.2, 0.5, 0.3, 0.9, -0.3, {-5.0,  0.2,  0.6,  0.0, -1.0}, 0.7, 0.4, 2.5, 0.6, 0.030,   0.0},  // ecue
  {  -8.5, 0.7, 0.4, 0.9, 1.4, -1.0, {-5.0, -1.0, -0.3,  0.5,  0.7}, 0.2, 0.0, 1.5, 0.0, 0.020,   0.0},  // fond
  { -10.6, 0.8, 0.2, 0.4, 0.3, -1.0, {-5.0, -2.0,  0.8,  0.2, -1.5}, 0.3, 0.6, 1.5, 0.0, 0.008,   0.0},  // hip
  {  -9.4, 0.7, 0.4, 0.6, 0.9, -1.5, {-5.0, -2.0, -0.2,  0.8, -0.5}, 0.2, 0.4, 1.5, 0.0, 0.015,   0.0},  // plan
  { -10.2, 0.8, 0.3, 0.2, 0.0, -1.0, {-5.0, -1.0,  0.6,  0.3, -1.0}, 0.2, 0.4, 1.5, 0.0, 0.020,   0.0},  // pres
  {  -7.9, 1.0, 0.4, 0.6, 1.0, -2.0, {-5.0, -1.5,  0.0,  0.8,  0.6}, 0.5, 0.5, 1.0, 0.0, 0.020,  -0.5},  // reca
  {  -7.5, 1.4, 0.5, 0.5, 0.8, -0.8, {-5.0, -0.5,  0.5,  0.3, -0.5}, 0.7, 0.9, 3.0, 0.4, 0.080,   0.0},  // tjcr
  {  -8.4, 0.5, 0.4, 1.0, 1.5, -1.2, {-5.0, -1.5, -0.3,  0.5,  0.8}, 0.0, 0.0, 1.5, 0.0, 0.015,   0.0},  // valo
  { -11.0, 0.6, 0.2, 0.4, 0.3, -1.0, {-5.0, -2.0,  0.6,  0.3, -1.0}, 0.2, 0.4, 1.5, 0.0, 0.010,   0.0},  // viv
  {  -7.6, 2.0, 0.5, 0.3, 0.3, -1.2, {-5.0, -1.0,  0.6,  0.4, -2.5}, 0.6, 0.0, 4.0, 0.5, 0.080,   0.0},  // nomina
  {  -8.6, 1.8, 0.5, 0.3, 0.3, -1.2, {-5.0, -1.0,  0.5,  0.5,  0.8}, 0.6, 1.5, 4.0, 0.5, 0.070,   0.0},  // nom_pens
  {  -6.7, 1.5, 0.5, 0.2, 0.3, -1.0, {-5.0, -0.3,  0.4,  0.5,  0.2}, 0.9, 0.7, 3.5, 0.5, 0.055,   0.0},  // recibo
};
// clang-format on

// Order in which the initial products are drawn, so that each draw can see
// the products it depends on (current account, payroll).
constexpr int kInitOrder[kNumProducts] = {
    kCtju,   kCtop, kCtpp, kCtma, kCco,  kNomina, kNomPens, kCno,
    kRecibo, kEcue, kTjcr, kReca, kDela, kValo,   kFond,    kPlan,
    kDeco,   kDeme, kHip,  kPres, kViv,  kAhor,   kAval,    kCder};

struct Features {
  int age;
  int age_band;
  double renta;  // log(renta / 90000), 0 when missing
  Segment segment;
  bool fresh;  // seniority under 7 months
  double propensity;
  int calendar_month;  // 1..12
};

Features MakeFeatures(const CustomerProfile& p, int month) {
  Features f;
  f.age = p.AgeIn(month);
  f.age_band = f.age < 20    ? 0
               : f.age <= 25 ? 1
               : f.age <= 45 ? 2
               : f.age <= 65 ? 3
                             : 4;
  f.renta = p.renta_missing ? 0.0 : std::log(p.renta / 90000.0);
  f.segment = p.segment;
  f.fresh = p.SeniorityIn(month) < 7;
  f.propensity = p.propensity;
  f.calendar_month = ((month % 12) + 12) % 12 + 1;
  return f;
}

// Logit of adding product `p` (not owned) given what is owned now.
double AddLogit(int p, const Features& f, bool active, ProductMask owned,
                ProductMask recently_dropped, ProductMask ever) {
  const Params& k = kParams[p];
  double x = k.base + k.propensity * f.propensity + k.renta * f.renta +
             k.age[f.age_band];
  if (active) x += k.active;
  if (f.segment == Segment::kTop) x += k.top;
  if (f.segment == Segment::kUniversitario) x += k.univ;
  if (owned & Bit(kCco)) x += k.with_cco;
  if (owned & Bit(kNomina)) x += k.payroll;
  if (recently_dropped & Bit(p)) x += k.readd;
  if (f.fresh) x += k.fresh;
  switch (p) {
    case kCco:  // one main account is enough
      if (owned & kOtherAccounts) x -= 1.5;
      break;
    case kReca:  // income tax season
      if (f.calendar_month == 6) x += (ever & Bit(kReca)) ? 4.5 : 3.0;
      if (f.calendar_month == 5) x += 0.7;
      break;
    case kTjcr:
      if (f.calendar_month == 12) x += 0.3;
      break;
    case kRecibo:
      if (!(owned & (Bit(kCco) | kOtherAccounts))) x -= 1.5;
      break;
    default:
      break;
  }
  return x;
}

double DropProbability(int p, const Features& f, bool active) {
  double d = kParams[p].drop;
  if (p == kReca && f.calendar_month >= 7 && f.calendar_month <= 9) d = 0.15;
  return active ? d : 1.5 * d;
}

bool InitialActivity(const CustomerProfile& p, const Features& f, Rng& rng) {
  double x = -0.3 + 0.9 * p.propensity;
  if (p.cohort == Cohort::kStudent) x -= 1.2;
  if (f.age_band == 0) x -= 1.5;
  if (f.age_band == 2 || f.age_band == 3) x += 0.4;
  if (f.segment == Segment::kTop) x += 0.8;
  return rng.Bernoulli(Sigmoid(x));
}

void ApplyBundles(const Features& f, ProductMask before, ProductMask* owned,
                  Rng& rng) {
  const ProductMask added = *owned & ~before;
  const ProductMask dropped = before & ~*owned;
  if (added & Bit(kNomina)) {
    if (!(*owned & Bit(kNomPens)) && rng.Bernoulli(0.9))
      *owned |= Bit(kNomPens);
    if (!(*owned & Bit(kCno)) && rng.Bernoulli(0.35)) *owned |= Bit(kCno);
  }
  if ((dropped & Bit(kNomina)) && (*owned & Bit(kNomPens)) &&
      rng.Bernoulli(0.85)) {
    *owned &= ~Bit(kNomPens);
  }
  if (f.age >= 20 && (*owned & Bit(kCtju))) {  // junior account grows up
    *owned &= ~Bit(kCtju);
    if (rng.Bernoulli(0.8)) *owned |= Bit(kCco);
  }
}

void Advance(const CustomerProfile& profile, uint64_t seed, int64_t index,
             int month, ProductState* s) {
  Rng rng(StreamSeed(seed, static_cast<uint64_t>(index),
                     static_cast<uint64_t>(month), kStreamProducts));
  const Features f = MakeFeatures(profile, month);
  const ProductMask before = s->owned;
  const ProductMask recently_dropped =
      (s->history[0] | s->history[1] | s->history[2]) & ~before;

  bool became_active = false;
  if (s->active) {
    if (rng.Bernoulli((before & Bit(kNomina)) ? 0.003 : 0.010))
      s->active = false;
  } else if (rng.Bernoulli(0.010 * std::exp(0.4 * f.propensity))) {
    s->active = became_active = true;
  }
  const double shopping =
      Sigmoid(-5.2 + 0.6 * f.propensity + (s->active ? 0.8 : 0.0) +
              (f.fresh ? 1.0 : 0.0) + (became_active ? 2.0 : 0.0));
  const double boost = rng.Bernoulli(shopping) ? 2.0 : 0.0;

  ProductMask owned = before;
  for (int p = 0; p < kNumProducts; ++p) {
    if (before & Bit(p)) {
      if (rng.Bernoulli(DropProbability(p, f, s->active))) owned &= ~Bit(p);
    } else {
      const double x =
          AddLogit(p, f, s->active, before, recently_dropped, s->ever) + boost;
      if (rng.Bernoulli(Sigmoid(x))) owned |= Bit(p);
    }
  }
  ApplyBundles(f, before, &owned, rng);
  if ((owned & ~before) & Bit(kNomina)) s->active = true;

  s->history[2] = s->history[1];
  s->history[1] = s->history[0];
  s->history[0] = before;
  s->owned = owned;
  s->ever |= owned;
}

}  // namespace

void StartProducts(const CustomerProfile& profile, uint64_t seed, int64_t index,
                   int month, ProductState* s) {
  // An existing customer's products are simulated for up to a year before
  // its first month, from a rough long-run draw, so that history features
  // (recent drops, re-additions) look the same as in later months.
  constexpr int kMinBurnIn = 4;
  constexpr int kMaxBurnIn = 12;
  *s = ProductState();
  const int seniority = profile.SeniorityIn(month);
  const bool existing = seniority >= kMinBurnIn;
  const int start = existing ? month - std::min(seniority, kMaxBurnIn) : month;
  Rng rng(StreamSeed(seed, static_cast<uint64_t>(index),
                     static_cast<uint64_t>(start), kStreamProducts) ^
          0x5bd1e995ULL);
  const Features f = MakeFeatures(profile, start);
  s->active = InitialActivity(profile, f, rng);
  if (!existing) {  // a new customer opens an account
    if (f.age_band == 0) {
      s->owned = rng.Bernoulli(0.75)  ? Bit(kCtju)
                 : rng.Bernoulli(0.4) ? Bit(kCco)
                                      : 0;
    } else {
      s->owned = rng.Bernoulli(0.8)   ? Bit(kCco)
                 : rng.Bernoulli(0.2) ? Bit(kEcue)
                                      : 0;
    }
    s->ever = s->owned;
    return;
  }
  // The long-run distribution: owning p is roughly add-rate / drop-rate.
  ProductMask owned = 0;
  for (int p : kInitOrder) {
    const double x = AddLogit(p, f, s->active, owned, 0, owned) -
                     std::log(kParams[p].drop) + kParams[p].init;
    if (rng.Bernoulli(Sigmoid(x))) owned |= Bit(p);
  }
  ApplyBundles(f, 0, &owned, rng);
  if (owned & Bit(kNomina)) s->active = true;
  s->owned = s->ever = owned;
  for (int m = start + 1; m <= month; ++m) Advance(profile, seed, index, m, s);
}

void StepProducts(const CustomerProfile& profile, uint64_t seed, int64_t index,
                  int month, ProductState* s) {
  Advance(profile, seed, index, month, s);
}

}  // namespace recsys::gen
