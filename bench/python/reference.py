#!/usr/bin/python3
"""The Python reference point of `make bench` (issue 6).

What a team would run if it served the model from Python, built only from
Debian packages (python3-xgboost 1.7.4, python3-numpy, python3-pandas; run it
with /usr/bin/python3):

  1. the same model file (the bundle's model.ubj) predicting the same feature
     matrix, written out by OUR featurizer (`recsys-floor --dump PREFIX`), one
     thread, in batches of --batch-rows rows like the server's batch path;
  2. numpy top-k: the 7 best products not owned last month, ties by product
     index, exactly like common/ranking.h;
  3. pandas reading and cleaning the same test CSV (the cleaning rules of
     docs/cleaning.md, vectorized).

It checks that its top-7 equals, for every row, the submission the C++ path
wrote (`recsys score` through the server), so that the comparison is of equal
work, and prints CPU seconds and rows per second per core for each part.

  /usr/bin/python3 bench/python/reference.py --dump build/bench/features/test \\
      --model STORE/santander/1/model.ubj --submission server.csv \\
      --test test_ver2.csv --json python.json
"""

import argparse
import csv
import json
import sys
import time

import numpy as np
import pandas as pd
import xgboost as xgb

# Product columns in kProducts order (common/products.h): bit i of an owned
# mask and column i of the model's output.
PRODUCTS = [
    "ind_ahor_fin_ult1", "ind_aval_fin_ult1", "ind_cco_fin_ult1",
    "ind_cder_fin_ult1", "ind_cno_fin_ult1", "ind_ctju_fin_ult1",
    "ind_ctma_fin_ult1", "ind_ctop_fin_ult1", "ind_ctpp_fin_ult1",
    "ind_deco_fin_ult1", "ind_deme_fin_ult1", "ind_dela_fin_ult1",
    "ind_ecue_fin_ult1", "ind_fond_fin_ult1", "ind_hip_fin_ult1",
    "ind_plan_fin_ult1", "ind_pres_fin_ult1", "ind_reca_fin_ult1",
    "ind_tjcr_fin_ult1", "ind_valo_fin_ult1", "ind_viv_fin_ult1",
    "ind_nomina_ult1", "ind_nom_pens_ult1", "ind_recibo_ult1",
]


class CpuTimer:
    """CPU seconds (this process, all threads) and wall seconds of a block."""

    def __enter__(self):
        self.cpu0, self.wall0 = time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.cpu = time.process_time() - self.cpu0
        self.wall = time.perf_counter() - self.wall0


def predict(booster, features, batch_rows):
    """Scores (rows x 24) of every row, predicted batch_rows rows at a time."""
    out = np.empty((features.shape[0], len(PRODUCTS)), dtype=np.float32)
    for start in range(0, features.shape[0], batch_rows):
        block = features[start:start + batch_rows]
        out[start:start + batch_rows] = booster.inplace_predict(
            block, missing=np.nan)
    return out


def top_k(scores, owned, k):
    """Indexes (rows x k) of the k best products not owned, best first, ties
    by index; -1 where fewer than k products are left."""
    bits = (owned[:, None] >> np.arange(len(PRODUCTS), dtype=np.uint32)) & 1
    masked = np.where(bits.astype(bool), -np.inf, scores)
    order = np.argsort(-masked, axis=1, kind="stable")[:, :k]
    taken = np.take_along_axis(masked, order, axis=1)
    return np.where(np.isneginf(taken), -1, order)


def clean(path):
    """The test CSV read and cleaned with pandas (docs/cleaning.md)."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False,
                     skipinitialspace=True)
    for col in df.columns:
        df[col] = df[col].str.strip().replace({"NA": np.nan, "": np.nan})

    def number(col, low, high):
        v = pd.to_numeric(df[col], errors="coerce")
        return v.where((v >= low) & (v <= high))

    def date(col):
        return pd.to_datetime(df[col], errors="coerce", format="%Y-%m-%d")

    out = pd.DataFrame({"ncodpers": pd.to_numeric(df["ncodpers"],
                                                  errors="coerce")})
    fecha_dato, alta, ult = date("fecha_dato"), date("fecha_alta"), date(
        "ult_fec_cli_1t")
    out["fecha_dato_month"] = fecha_dato.dt.month
    out["fecha_alta_year"] = alta.dt.year
    out["fecha_alta_month"] = alta.dt.month
    months = ((fecha_dato.dt.year - alta.dt.year) * 12 +
              fecha_dato.dt.month - alta.dt.month)
    out["months_since_alta"] = months.where(months >= 0)
    out["ult_fec_cli_1t_set"] = ult.notna().astype(np.float32)
    out["days_to_ult_fec_cli_1t"] = (ult - fecha_dato).dt.days
    out["age"] = number("age", 0, 120)
    out["antiguedad"] = number("antiguedad", 0, 1200)
    out["ind_nuevo"] = number("ind_nuevo", 0, 1)
    out["indrel"] = number("indrel", 1, 99).where(
        lambda v: v.isin([1, 99]))
    out["cod_prov"] = number("cod_prov", 1, 52)
    out["ind_actividad_cliente"] = number("ind_actividad_cliente", 0, 1)
    renta = pd.to_numeric(df["renta"], errors="coerce")
    out["renta"] = renta.where((renta > 0) & np.isfinite(renta))
    out["indrel_1mes"] = df["indrel_1mes"].replace(
        {"1.0": "1", "2.0": "2", "3.0": "3", "4.0": "4"}).where(
            lambda s: s.isin(["1", "2", "3", "4", "P"]))
    for col in ["ind_empleado", "pais_residencia", "sexo", "tiprel_1mes",
                "indresi", "indext", "conyuemp", "canal_entrada", "indfall",
                "segmento"]:
        out[col] = df[col].astype("category")
    return out


def read_submission(path):
    """(ncodpers array, list of product-name lists) of a Kaggle submission."""
    ids, products = [], []
    with open(path, newline="") as f:
        reader = csv.reader(f)
        next(reader)
        for row in reader:
            ids.append(int(row[0]))
            products.append(row[1].split())
    return np.array(ids, dtype=np.int64), products


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dump", required=True,
                        help="PREFIX given to recsys-floor --dump")
    parser.add_argument("--model", required=True, help="the bundle's model.ubj")
    parser.add_argument("--submission", required=True,
                        help="the C++ path's submission, to compare with")
    parser.add_argument("--test", required=True, help="the raw test CSV")
    parser.add_argument("--batch-rows", type=int, default=256)
    parser.add_argument("--k", type=int, default=7)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()

    features = np.load(args.dump + ".features.npy")
    owned = np.load(args.dump + ".owned.npy")
    ncodpers = np.load(args.dump + ".ncodpers.npy")
    booster = xgb.Booster(model_file=args.model)
    booster.set_param({"nthread": 1})
    booster.inplace_predict(features[:1], missing=np.nan)  # warm-up

    with CpuTimer() as t_predict:
        scores = predict(booster, features, args.batch_rows)
    with CpuTimer() as t_topk:
        tops = top_k(scores, owned, args.k)
    with CpuTimer() as t_pandas:
        cleaned = clean(args.test)

    sub_ids, sub_products = read_submission(args.submission)
    rows = features.shape[0]
    mismatches = 0
    first_mismatch = None
    if len(sub_ids) != rows or not np.array_equal(sub_ids, ncodpers):
        mismatches = rows
        first_mismatch = "the submission lists other customers or another order"
    else:
        for i in range(rows):
            mine = [PRODUCTS[p] for p in tops[i] if p >= 0]
            if mine != sub_products[i]:
                mismatches += 1
                if first_mismatch is None:
                    first_mismatch = (f"row {i} ncodpers {ncodpers[i]}: python "
                                      f"{mine}, C++ {sub_products[i]}")

    per_row = lambda s: 1e6 * s / rows
    result = {
        "rows": int(rows),
        "pandas_rows": int(len(cleaned)),
        "xgboost_version": xgb.__version__,
        "numpy_version": np.__version__,
        "pandas_version": pd.__version__,
        "batch_rows": args.batch_rows,
        "cpu_seconds": {"predict": t_predict.cpu, "top_k": t_topk.cpu,
                        "pandas_read_clean": t_pandas.cpu},
        "wall_seconds": {"predict": t_predict.wall, "top_k": t_topk.wall,
                         "pandas_read_clean": t_pandas.wall},
        "cpu_us_per_row": {"predict": per_row(t_predict.cpu),
                           "top_k": per_row(t_topk.cpu),
                           "pandas_read_clean": per_row(t_pandas.cpu)},
        "total_cpu_us_per_row": per_row(t_predict.cpu + t_topk.cpu +
                                        t_pandas.cpu),
        "rows_per_second_per_core": rows / (t_predict.cpu + t_topk.cpu +
                                            t_pandas.cpu),
        "top7_mismatches": mismatches,
        "first_mismatch": first_mismatch,
    }
    text = (f"python reference: {rows} rows; CPU us per row: predict "
            f"{result['cpu_us_per_row']['predict']:.2f}, numpy top-k "
            f"{result['cpu_us_per_row']['top_k']:.2f}, pandas read+clean "
            f"{result['cpu_us_per_row']['pandas_read_clean']:.2f} = "
            f"{result['rows_per_second_per_core']:.0f} rows/s per core\n"
            f"top-7 identical to the C++ submission: "
            f"{rows - mismatches}/{rows} rows")
    if first_mismatch:
        text += f" (first difference: {first_mismatch})"
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    return 0 if mismatches == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
