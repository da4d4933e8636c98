"""Formula queries (score boosting) through qdrant-client, compared with
qdrant-client's local mode (`QdrantClient(":memory:")`, the executable
reference of Qdrant's semantics) on the same random data: every prefetch is
exact, so both sides rescore the same candidates and must agree on ids and
scores."""
import numpy as np
import pytest
from qdrant_client import QdrantClient, models

from helpers import expect_status

DIM = 4
N = 60
EXACT = models.SearchParams(exact=True)
M = models
CATEGORIES = ["a", "b", "c"]


def make_data(seed):
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(N, DIM)).astype(np.float32)
    points = []
    for i in range(N):
        payload = {"cat": CATEGORIES[i % 3], "price": float(np.round(rng.uniform(1, 100), 3))}
        if i % 4 != 0:
            payload["rating"] = int(rng.integers(0, 6))
        payload["loc"] = {"lon": float(rng.uniform(-10, 10)), "lat": float(rng.uniform(40, 55))}
        day = int(rng.integers(1, 28))
        payload["ts"] = f"2024-{1 + i % 12:02d}-{day:02d}T{int(rng.integers(0, 24)):02d}:00:00Z"
        points.append(M.PointStruct(id=i, vector=vectors[i].tolist(), payload=payload))
    return rng, points


def setup(client, name, points, distance):
    client.create_collection(name, vectors_config=M.VectorParams(size=DIM, distance=distance))
    client.upsert(name, points=points, wait=True)


def prefetches(rng):
    q1, q2 = rng.normal(size=(2, DIM)).tolist()
    return [M.Prefetch(query=q1, limit=40, params=EXACT),
            M.Prefetch(query=q2, limit=15, params=EXACT)]


def formulas():
    cat_a = M.FieldCondition(key="cat", match=M.MatchValue(value="a"))
    berlin = M.GeoPoint(lon=13.4, lat=52.52)
    return [
        # Boost by a payload number, with a default for points without it.
        M.FormulaQuery(formula=M.SumExpression(sum=["$score", M.MultExpression(mult=[0.25, "rating"])]),
                       defaults={"rating": 2}),
        # A condition as 1/0.
        M.FormulaQuery(formula=M.SumExpression(sum=["$score", M.MultExpression(mult=[0.5, cat_a])])),
        # Two prefetches: a point missing from the second gets its default.
        M.FormulaQuery(formula=M.SumExpression(sum=["$score[0]", M.MultExpression(mult=[2, "$score[1]"])]),
                       defaults={"$score[1]": -1.5}),
        M.FormulaQuery(formula=M.SumExpression(sum=["$score[0]", "$score[1]"])),  # missing score: 0
        # Decays of a geo distance and of a datetime.
        M.FormulaQuery(formula=M.SumExpression(sum=[
            "$score",
            M.ExpDecayExpression(exp_decay=M.DecayParamsExpression(
                x=M.GeoDistance(geo_distance=M.GeoDistanceParams(origin=berlin, to="loc")), scale=1000000)),
        ])),
        M.FormulaQuery(formula=M.SumExpression(sum=[
            "$score",
            M.GaussDecayExpression(gauss_decay=M.DecayParamsExpression(
                x=M.DatetimeKeyExpression(datetime_key="ts"),
                target=M.DatetimeExpression(datetime="2024-06-15T00:00:00Z"), scale=5184000, midpoint=0.25)),
        ])),
        M.FormulaQuery(formula=M.SumExpression(sum=[
            "$score",
            M.LinDecayExpression(lin_decay=M.DecayParamsExpression(x="price", target=50, scale=40, midpoint=0.5)),
        ])),
        # The arithmetic operators.
        M.FormulaQuery(formula=M.SumExpression(sum=[
            M.NegExpression(neg=M.AbsExpression(abs="$score")),
            M.DivExpression(div=M.DivParams(left="price", right="rating", by_zero_default=-3)),
            M.SqrtExpression(sqrt="price"),
            M.PowExpression(pow=M.PowParams(base=M.AbsExpression(abs="$score"), exponent=1.5)),
            M.Log10Expression(log10="price"),
            M.LnExpression(ln=M.SumExpression(sum=[1, M.AbsExpression(abs="$score")])),
            M.ExpExpression(exp=M.MultExpression(mult=[0.1, "$score"])),
        ]), defaults={"rating": 0}),
        # Qdrant 1.20's max, min and acosh.
        M.FormulaQuery(formula=M.SumExpression(sum=[
            M.MaxExpression(max=["$score[0]", "$score[1]", M.MultExpression(mult=[0.01, "price"])]),
            M.MinExpression(min=["rating", 3]),
            M.AcoshExpression(acosh=M.SumExpression(sum=[1, M.AbsExpression(abs="$score")])),
        ]), defaults={"rating": 1, "$score[1]": -5}),
    ]


@pytest.fixture(scope="module")
def local():
    c = QdrantClient(":memory:")
    yield c
    c.close()


def compare(server_hits, local_hits):
    got = sorted(((h.score, h.id) for h in server_hits), key=lambda x: (-x[0], x[1]))
    want = sorted(((h.score, h.id) for h in local_hits), key=lambda x: (-x[0], x[1]))
    assert [i for _, i in got] == [i for _, i in want]
    np.testing.assert_allclose([s for s, _ in got], [s for s, _ in want], rtol=1e-5, atol=1e-4)
    # The server's own order is best first, ties by id.
    assert [h.id for h in server_hits] == [i for _, i in got]


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("distance", [M.Distance.DOT, M.Distance.COSINE, M.Distance.EUCLID])
def test_formulas_match_local_mode(client, local, name, seed, distance):
    rng, points = make_data(seed)
    setup(client, name, points, distance)
    setup(local, name, points, distance)
    for index, formula in enumerate(formulas()):
        prefetch = prefetches(rng)
        for limit in (100, 7):
            a = client.query_points(name, prefetch=prefetch, query=formula, limit=limit, with_payload=True).points
            b = local.query_points(name, prefetch=prefetch, query=formula, limit=limit).points
            if limit == 100:
                compare(a, b)
            else:  # the best 7 (local mode does not break ties by id)
                assert len(a) == len(b) == 7
                np.testing.assert_allclose([h.score for h in a], [h.score for h in b], rtol=1e-5, atol=1e-4)
            assert all(h.payload is not None for h in a), index
        # score_threshold and offset
        threshold = b[3].score - 1e-3  # below the 4th score on both sides (they agree to 1e-4)
        a = client.query_points(name, prefetch=prefetch, query=formula, score_threshold=threshold, limit=100).points
        assert [h.score >= threshold for h in a] == [True] * len(a) and len(a) >= 4
        page = client.query_points(name, prefetch=prefetch, query=formula, limit=3, offset=2).points
        full = client.query_points(name, prefetch=prefetch, query=formula, limit=5).points
        assert [h.id for h in page] == [h.id for h in full[2:5]]


def test_errors(client, local, name):
    _, points = make_data(5)
    setup(client, name, points, M.Distance.DOT)
    setup(local, name, points, M.Distance.DOT)
    prefetch = [M.Prefetch(query=[1.0, 0, 0, 0], limit=20, params=EXACT)]
    # "rating" is missing from every 4th point and has no default.
    missing = M.FormulaQuery(formula=M.SumExpression(sum=["$score", "rating"]))
    with pytest.raises(ValueError):
        local.query_points(name, prefetch=prefetch, query=missing, limit=100)
    message = expect_status(lambda: client.query_points(name, prefetch=prefetch, query=missing, limit=100), 400)
    assert "Expected number value for rating in the payload and/or in the formula defaults" in message
    # Division by zero without a default is a non-finite number, named with where it happened.
    by_zero = M.FormulaQuery(formula=M.SumExpression(sum=[
        "$score", M.DivExpression(div=M.DivParams(left=1, right=M.MultExpression(mult=["$score", 0])))]))
    with pytest.raises(ValueError):
        local.query_points(name, prefetch=prefetch, query=by_zero, limit=100)
    message = expect_status(lambda: client.query_points(name, prefetch=prefetch, query=by_zero, limit=100), 400)
    assert "produced a non-finite number" in message and "formula.sum[1].div" in message
    # A formula needs prefetches; malformed parameters are refused.
    expect_status(lambda: client.query_points(name, query=M.FormulaQuery(formula="$score"), limit=3), 400)
    expect_status(lambda: client.query_points(name, prefetch=prefetch, limit=3, query=M.FormulaQuery(
        formula=M.ExpDecayExpression(exp_decay=M.DecayParamsExpression(x="$score", midpoint=1.5)))), 400)
    expect_status(lambda: client.query_points(name, prefetch=prefetch, query=M.FormulaQuery(formula="$bogus"), limit=3),
                  400)
    message = expect_status(lambda: client.query_points(
        name, prefetch=prefetch, query=M.FormulaQuery(formula=M.MaxExpression(max=[])), limit=3), 400)
    assert "`max` needs at least one operand" in message
