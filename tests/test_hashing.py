"""Binary codes for retrieval: the math of core.hashing, the hash table, the hashing models
and the SemanticHasher estimator."""

import math

import numpy as np
import pytest
import torch

import aelab
from aelab.applications.hashing import (
    ITQ,
    HashIndex,
    document_features,
    hamming_pr_curve,
    nearest_documents,
    neighbor_targets,
    precision_at_k,
)
from aelab.core.hashing import (
    bernoulli_kl_uniform,
    hamming_ball,
    hamming_ball_masks,
    hamming_ball_size,
    hamming_distance,
    pack_bits,
    popcount,
    saturation_noise_std,
    straight_through_bernoulli,
    unpack_bits,
)


def test_noise_schedule_ramps_linearly_then_holds():
    stds = [saturation_noise_std(e, 4, 2.0) for e in range(7)]
    assert stds == [0.0, 0.5, 1.0, 1.5, 2.0, 2.0, 2.0]
    assert saturation_noise_std(0, 0, 3.0) == 3.0
    with pytest.raises(ValueError, match=">= 0"):
        saturation_noise_std(-1, 4, 2.0)


@pytest.mark.parametrize("n_bits", [5, 8, 13, 64, 70])
def test_pack_unpack_round_trip_and_distance_matches_bit_count(n_bits):
    rng = np.random.default_rng(n_bits)
    a, b = rng.integers(0, 2, (7, n_bits)), rng.integers(0, 2, (9, n_bits))
    pa, pb = pack_bits(a), pack_bits(b)
    assert pa.shape == (7, math.ceil(n_bits / 8)) and pa.dtype == np.uint8
    np.testing.assert_array_equal(unpack_bits(pa, n_bits), a)
    expected = (a[:, None, :] != b[None, :, :]).sum(-1)
    np.testing.assert_array_equal(hamming_distance(pa, pb, n_bits), expected)


def test_popcount_counts_bits_of_words():
    words = np.array([0, 1, 3, 2**63, 2**64 - 1], dtype=np.uint64)
    np.testing.assert_array_equal(popcount(words), [0, 1, 2, 1, 64])


@pytest.mark.parametrize("n_bits,radius", [(4, 0), (6, 2), (10, 3), (16, 2), (9, 9)])
def test_hamming_ball_holds_exactly_the_codes_within_radius(n_bits, radius):
    expected = sum(math.comb(n_bits, i) for i in range(radius + 1))
    assert hamming_ball_size(n_bits, radius) == expected
    code = pack_bits(np.random.default_rng(0).integers(0, 2, (1, n_bits)))
    ball = hamming_ball(code[0], n_bits, radius)
    assert ball.shape[0] == expected
    assert len({row.tobytes() for row in ball}) == expected  # all distinct
    d = hamming_distance(code, ball, n_bits)[0]
    assert d.max() <= radius and d[0] == 0
    # every code of the cube within the radius is in the ball (brute force over all 2^b)
    if n_bits <= 10:
        every = pack_bits((np.arange(2**n_bits)[:, None] >> np.arange(n_bits)) & 1)
        inside = hamming_distance(code, every, n_bits)[0] <= radius
        assert inside.sum() == expected


def test_radius_larger_than_the_code_is_refused():
    with pytest.raises(ValueError, match=r"radius must lie in \[0, n_bits\]"):
        hamming_ball_masks(8, 9)
    with pytest.raises(TypeError, match="radius must be an int"):
        hamming_ball_masks(8, 1.5)


def test_pack_bits_refuses_real_codes():
    with pytest.raises(ValueError, match="threshold real codes first"):
        pack_bits(np.array([[0.2, 0.9]]))


def test_straight_through_is_binary_forward_identity_backward():
    torch.manual_seed(0)
    q = torch.rand(50, 6, requires_grad=True)
    b = straight_through_bernoulli(q)
    assert set(b.detach().unique().tolist()) <= {0.0, 1.0}
    (b * torch.arange(6.0)).sum().backward()
    np.testing.assert_allclose(q.grad.numpy(), np.tile(np.arange(6.0), (50, 1)))


def test_bernoulli_kl_to_uniform_zero_at_half_max_at_saturation():
    assert float(bernoulli_kl_uniform(torch.full((1, 5), 0.5))) == pytest.approx(0.0, abs=1e-7)
    assert float(bernoulli_kl_uniform(torch.ones(1, 5))) == pytest.approx(5 * math.log(2), rel=1e-4)
    q = torch.rand(100, 5)
    assert (bernoulli_kl_uniform(q) >= 0).all()


def test_hash_table_lookup_equals_a_scan_within_the_radius():
    rng = np.random.default_rng(1)
    bits = rng.integers(0, 2, (300, 12))
    bits[:40] = bits[0]  # many documents share one code
    codes = pack_bits(bits)
    index = HashIndex(codes, 12)
    for radius in (0, 1, 3):
        for i in (0, 5, 77):
            found = index.lookup(codes[i], radius)
            scan = np.flatnonzero(hamming_distance(codes[i:i + 1], codes, 12)[0] <= radius)
            np.testing.assert_array_equal(np.sort(found), scan)
    ids, dist = index.knn(codes[:3], 10)
    full = hamming_distance(codes[:3], codes, 12)
    np.testing.assert_array_equal(dist, np.sort(full, 1)[:, :10])
    with pytest.raises(ValueError, match="radius must lie"):
        index.lookup(codes[0], 13)


def test_precision_and_pr_curve_on_codes_equal_to_labels():
    labels = np.arange(40) % 4
    codes = pack_bits(np.eye(4, dtype=bool)[labels])  # the code is the label: perfect retrieval
    assert precision_at_k(codes, codes, labels, labels, 4, k=10) == 1.0
    curve = hamming_pr_curve(codes, codes, labels, labels, 4)
    assert curve.precision[0] == 1.0 and curve.recall[0] == 1.0
    assert curve.recall[-1] == 1.0 and curve.precision[-1] == pytest.approx(0.25)


def test_itq_codes_balance_and_beat_nothing_on_clustered_data():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(4, 20)) * 4
    labels = np.repeat(np.arange(4), 50)
    X = centres[labels] + rng.normal(size=(200, 20))
    codes = ITQ(8, seed=0).fit(X).transform(X)
    assert precision_at_k(codes, codes, labels, labels, 8, k=20) > 0.9


def test_document_features_refuse_empty_documents_and_vocabulary():
    import scipy.sparse as sp

    with pytest.raises(ValueError, match="have no word of the vocabulary"):
        document_features(sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 0.0]])))
    with pytest.raises(ValueError, match="vocabulary has no words"):
        document_features(sp.csr_matrix((3, 0)))
    rows = document_features(np.array([[1.0, 3.0], [2.0, 0.0]]))
    np.testing.assert_allclose(rows.sum(1), 1.0)


@pytest.mark.parametrize("name", ["semantic_hashing", "nash"])
def test_hashing_models_refuse_another_code_activation(name):
    with pytest.raises(ValueError, match="code_activation must be 'sigmoid'"):
        aelab.create(name, input_shape=6, code_activation="relu")


def test_semantic_hashing_noise_follows_the_schedule_and_saturates_codes(tiny_data):
    x, _ = tiny_data
    saturated = {}
    for std in (0.0, 4.0):
        model = aelab.create("semantic_hashing", input_shape=12, latent_dim=4, hidden=(16,),
                             noise_std=std, noise_ramp_epochs=4, seed=0)
        seen = []
        aelab.train(model, x, epochs=40, batch_size=32, lr=1e-2, device="cpu",
                    callback=lambda e, _, m=model, s=seen: s.append(float(m.encoder[-1].std)))
        assert seen[:6] == [0.0, std / 4, std / 2, 3 * std / 4, std, std]
        h = model.encode(x)
        saturated[std] = ((h < 0.1) | (h > 0.9)).mean()
    # the noise pushes the code units to 0 or 1; without it they stay graded
    assert saturated[4.0] > 0.7 and saturated[4.0] > saturated[0.0] + 0.2, saturated


def test_nearest_documents_are_the_most_cosine_similar_others_nearest_first():
    import scipy.sparse as sp

    rng = np.random.default_rng(0)
    words = sp.random(120, 40, density=0.15, random_state=1, format="csr") * 3.0
    words = words[np.asarray(words.sum(1)).ravel() > 0]
    idx = nearest_documents(words, 7, block=16)  # several blocks, the last one short
    dense = words.toarray()
    unit = dense / np.linalg.norm(dense, axis=1, keepdims=True)
    sim = unit @ unit.T
    np.fill_diagonal(sim, -np.inf)
    for i in rng.choice(len(dense), 20, replace=False):
        got = sim[i, idx[i]]
        assert i not in idx[i]
        assert np.all(np.diff(got) <= 1e-12)  # nearest first
        assert got[-1] >= np.sort(sim[i])[-7] - 1e-12  # none closer left out
    with pytest.raises(ValueError, match="k must be between 1"):
        nearest_documents(words, words.shape[0])


def test_neighbor_targets_average_a_row_with_its_neighbours_and_stay_distributions():
    rng = np.random.default_rng(0)
    X = rng.random((30, 9)).astype(np.float32)
    X /= X.sum(1, keepdims=True)
    nbrs = np.stack([rng.choice(np.delete(np.arange(30), i), 4, replace=False) for i in range(30)])
    T = neighbor_targets(X, nbrs)
    assert T.dtype == np.float32
    np.testing.assert_allclose(T[5], (X[5] + X[nbrs[5]].sum(0)) / 5, rtol=1e-6)
    np.testing.assert_allclose(T.sum(1), 1.0, rtol=1e-5)
    with pytest.raises(ValueError, match="indices of shape"):
        neighbor_targets(X, nbrs[:10])


@pytest.mark.parametrize("name", ["semantic_hashing", "nash"])
def test_hashing_models_reconstruct_the_rows_given_as_y(name):
    """With float rows y the recon term is the multinomial NLL of y under the decoder's
    softmax of x's code; integer y (class labels) are ignored; a wrong width is refused."""
    rng = np.random.default_rng(0)
    x = rng.random((16, 10)).astype(np.float32)
    x /= x.sum(1, keepdims=True)
    t = np.roll(x, 3, axis=1)
    model = aelab.create(name, input_shape=10, latent_dim=4, hidden=(8,), seed=0,
                         likelihood="multinomial")
    model.eval()  # deterministic codes: the recon terms can be compared
    xt, tt = torch.from_numpy(x), torch.from_numpy(t)
    with torch.no_grad():
        out = model.decoder((model.encode(xt) > 0.5).float()) if name == "nash" else \
            model.decoder(model.encoder(xt))
        want = -(tt * torch.log_softmax(out, 1)).sum(1).mean()
        got = model.loss_terms(xt, tt)["recon"]
        own = model.loss_terms(xt, None)["recon"]
        labels = model.loss_terms(xt, torch.zeros(16, dtype=torch.int64))["recon"]
    torch.testing.assert_close(got, want)
    assert not torch.isclose(got, own) and torch.equal(labels, own)
    with pytest.raises(ValueError, match="reads y as the rows to reconstruct"):
        model.loss_terms(xt, tt[:, :6])
    with pytest.raises(ValueError, match="cannot also be conditioned"):
        aelab.create(name, input_shape=10, n_classes=3)


TEXTS = ["the cat sat on the mat", "a cat and a kitten", "dogs bark at the mail carrier",
         "the dog chased a cat", "stock markets fell sharply", "investors sold shares today",
         "markets rallied as shares rose", "the kitten chased the dog"] * 5


def test_semantic_hasher_fit_index_query_save_load(tmp_path):
    from aelab.sklearn import SemanticHasher, load

    hasher = SemanticHasher(n_bits=8, hidden=(16,), epochs=3, vocabulary_size=50).fit(TEXTS)
    codes = hasher.transform(TEXTS)
    assert codes.shape == (len(TEXTS), 1) and codes.dtype == np.uint8
    hasher.index(TEXTS)
    near = hasher.query("a cat on a mat", radius=8)[0]
    assert sorted(near.tolist()) == list(range(len(TEXTS)))  # radius = b reaches everything
    knn = hasher.query(["markets and shares"], k=5)
    assert knn.shape == (1, 5)
    hasher.save(tmp_path / "h")
    back = load(tmp_path / "h")
    np.testing.assert_array_equal(back.transform(TEXTS), codes)
    np.testing.assert_array_equal(back.query(["markets and shares"], k=5), knn)


def test_semantic_hasher_trains_on_documents_pooled_with_their_neighbours():
    from aelab.sklearn import SemanticHasher

    def codes(k):
        return SemanticHasher(n_bits=8, hidden=(16,), epochs=60, batch_size=10, lr=1e-2,
                              vocabulary_size=50, neighbors=k).fit(TEXTS).transform(TEXTS)

    # TEXTS holds each text 5 times: its 4 nearest documents are its copies, so pooling with
    # them changes no target and no code; 10 neighbours reach other texts and change both
    np.testing.assert_array_equal(codes(4), codes(0))
    assert not np.array_equal(codes(10), codes(0))
    with pytest.raises(ValueError, match="neighbors"):
        SemanticHasher(neighbors=-1).fit(TEXTS)


def test_semantic_hasher_saved_before_neighbours_loads_as_fitted_without(tmp_path):
    import json

    from aelab.sklearn import SemanticHasher

    SemanticHasher(n_bits=8, hidden=(16,), epochs=1, vocabulary_size=50).fit(TEXTS).save(tmp_path)
    doc = json.loads((tmp_path / "estimator.json").read_text())
    del doc["params"]["neighbors"]
    (tmp_path / "estimator.json").write_text(json.dumps(doc))
    assert SemanticHasher.load(tmp_path).neighbors == 0


def test_semantic_hasher_bad_input():
    from aelab.sklearn import SemanticHasher

    with pytest.raises(ValueError, match="vocabulary with no words"):
        SemanticHasher(epochs=1).fit(["the", "a and the"])
    hasher = SemanticHasher(n_bits=8, hidden=(16,), epochs=1, vocabulary_size=50).fit(TEXTS)
    with pytest.raises(ValueError, match="no word of the vocabulary"):
        hasher.transform(["zzzz qqqq"])
    hasher.index(TEXTS)
    with pytest.raises(ValueError, match="radius must lie"):
        hasher.query("cat", radius=9)


def test_hash_cli_fit_index_query(tmp_path, capsys):
    from aelab.cli import main

    lines = tmp_path / "docs.txt"
    lines.write_text("\n".join(TEXTS))
    out = tmp_path / "hasher"
    assert main(["hash", "fit", "--texts", str(lines), "--bits", "8", "--epochs", "2",
                 "--out", str(out)]) == 0
    assert main(["hash", "index", str(out), "--texts", str(lines)]) == 0
    capsys.readouterr()
    assert main(["hash", "query", str(out), "cat on the mat", "-k", "3"]) == 0
    assert len(capsys.readouterr().out.split()) == 3
    assert main(["hash", "query", str(out), "cat", "--radius", "99"]) == 2
