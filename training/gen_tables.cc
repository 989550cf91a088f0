#include "training/gen_tables.h"

#include <array>

namespace recsys::gen {

// Weights: province shares of the first 38,171 rows of the real test file.
// Income: a rough regional index (Madrid and the Basque Country above the
// median, the south below).
const Province kProvinces[kNumProvinces] = {
    {1, "ALAVA", 69, 1.15},           {2, "ALBACETE", 380, 0.90},
    {3, "ALICANTE", 1307, 0.90},      {4, "ALMERIA", 242, 0.82},
    {5, "AVILA", 158, 0.90},          {6, "BADAJOZ", 1030, 0.78},
    {7, "BALEARS, ILLES", 344, 1.05}, {8, "BARCELONA", 3281, 1.15},
    {9, "BURGOS", 283, 0.90},         {10, "CACERES", 647, 0.80},
    {11, "CADIZ", 900, 0.80},         {12, "CASTELLON", 718, 0.90},
    {13, "CIUDAD REAL", 465, 0.90},   {14, "CORDOBA", 353, 0.82},
    {15, "CORUÑA, A", 2333, 0.90},    {16, "CUENCA", 211, 0.90},
    {17, "GIRONA", 221, 1.00},        {18, "GRANADA", 599, 0.82},
    {19, "GUADALAJARA", 148, 0.90},   {20, "GIPUZKOA", 110, 1.25},
    {21, "HUELVA", 452, 0.80},        {22, "HUESCA", 103, 0.90},
    {23, "JAEN", 184, 0.78},          {24, "LEON", 240, 0.90},
    {25, "LERIDA", 257, 0.90},        {26, "RIOJA, LA", 208, 1.00},
    {27, "LUGO", 452, 0.90},          {28, "MADRID", 6803, 1.35},
    {29, "MALAGA", 950, 0.88},        {30, "MURCIA", 1609, 0.85},
    {31, "NAVARRA", 233, 1.10},       {32, "OURENSE", 583, 0.90},
    {33, "ASTURIAS", 492, 0.95},      {34, "PALENCIA", 224, 0.90},
    {35, "PALMAS, LAS", 701, 0.85},   {36, "PONTEVEDRA", 1351, 0.90},
    {37, "SALAMANCA", 674, 0.90},     {38, "SANTA CRUZ DE TENERIFE", 196, 0.85},
    {39, "CANTABRIA", 374, 0.95},     {40, "SEGOVIA", 145, 0.90},
    {41, "SEVILLA", 1990, 0.88},      {42, "SORIA", 36, 0.90},
    {43, "TARRAGONA", 237, 1.00},     {44, "TERUEL", 84, 0.90},
    {45, "TOLEDO", 589, 0.90},        {46, "VALENCIA", 3343, 0.95},
    {47, "VALLADOLID", 737, 0.95},    {48, "BIZKAIA", 181, 1.20},
    {49, "ZAMORA", 208, 0.90},        {50, "ZARAGOZA", 693, 1.00},
    {51, "CEUTA", 10, 0.85},          {52, "MELILLA", 13, 0.85},
};

const double* ProvinceWeights() {
  static const std::array<double, kNumProvinces> weights = [] {
    std::array<double, kNumProvinces> w{};
    for (int i = 0; i < kNumProvinces; ++i) w[i] = kProvinces[i].weight;
    return w;
  }();
  return weights.data();
}

// Codes seen in the real files; the established weights follow the real
// channel frequencies, the student weights the 2012-2013 campaigns (KHE), the
// recent ones the newer digital channels (KHQ, KHK, KHM, KHN).
const Channel kChannels[kNumChannels] = {
    // code, student, recent, established
    {"KHE", 78, 20, 3},     {"KAT", 4, 10, 35},     {"KFC", 4, 12, 33},
    {"KHQ", 1, 20, 1},      {"KFA", 1, 4, 5},       {"KHK", 1, 8, 0.5},
    {"KHM", 0, 6, 0.2},     {"KHD", 10, 1, 0.5},    {"KHN", 0, 6, 0.1},
    {"KAS", 0, 1, 1.5},     {"RED", 0.3, 1.5, 1.5}, {"KAG", 0, 1, 1.4},
    {"KAY", 0, 0.5, 1.3},   {"KAA", 0, 0.5, 1.3},   {"KAB", 0, 0.5, 1.2},
    {"KAE", 0, 0.3, 1},     {"KCC", 0, 0.3, 1},     {"KBZ", 0, 0.3, 0.9},
    {"KHL", 0.5, 1, 0.3},   {"KFD", 0, 0.3, 0.9},   {"KAI", 0, 0.2, 0.7},
    {"KEY", 0, 0.2, 0.7},   {"KAW", 0, 0.2, 0.7},   {"KAR", 0, 0.2, 0.6},
    {"KAZ", 0.2, 0.3, 0.6}, {"KAF", 0, 0.2, 0.6},   {"007", 0, 0.1, 0.45},
    {"013", 0, 0.1, 0.45},  {"KCI", 0, 0.1, 0.4},   {"KAH", 0, 0.1, 0.4},
    {"KAJ", 0, 0.1, 0.35},  {"KCH", 0, 0.1, 0.3},   {"KHF", 0, 1.5, 0.1},
    {"KAQ", 0, 0.1, 0.3},   {"KHC", 0, 0.8, 0.1},   {"KAK", 0, 0.05, 0.2},
    {"KAD", 0, 0.05, 0.16}, {"KFP", 0, 0.05, 0.16}, {"KFS", 0, 0.05, 0.14},
    {"KAM", 0, 0.05, 0.12}, {"KFU", 0, 0.05, 0.1},  {"KFN", 0, 0.05, 0.1},
    {"KAO", 0, 0.05, 0.1},  {"KFJ", 0, 0.05, 0.1},  {"KBO", 0, 0.03, 0.08},
    {"KHO", 0, 0.3, 0.02},  {"KEH", 0, 0.05, 0.05}, {"KBG", 0, 0.05, 0.05},
};

// Residents of Spain and the most frequent other countries of the real data.
const Country kCountries[kNumCountries] = {
    {"ES", 99560}, {"FR", 35}, {"AR", 34}, {"DE", 32}, {"GB", 30}, {"US", 27},
    {"CO", 24},    {"IT", 23}, {"RO", 22}, {"MX", 19}, {"EC", 17}, {"VE", 16},
    {"BR", 15},    {"CH", 14}, {"BE", 13}, {"PT", 12}, {"CL", 10}, {"PE", 10},
    {"CN", 9},     {"MA", 9},  {"UY", 7},  {"PY", 6},  {"BO", 6},  {"IE", 6},
    {"NL", 6},     {"SE", 4},  {"RU", 4},  {"DO", 4},  {"QA", 1},  {"DJ", 1},
};

bool IsGeneratedChannel(absl::string_view code) {
  for (const Channel& c : kChannels) {
    if (c.code == code) return true;
  }
  return false;
}

bool IsGeneratedCountry(absl::string_view code) {
  for (const Country& c : kCountries) {
    if (c.code == code) return true;
  }
  return false;
}

const Province* FindProvince(int code) {
  return code >= 1 && code <= kNumProvinces ? &kProvinces[code - 1] : nullptr;
}

}  // namespace recsys::gen
