"""The self-trained prior: the icons' zero-shot suggestions times a SCAN head they seed (real Keras training)."""
import numpy as np
import pytest

from pipeline.suggest.propagation import Suggestions
from pipeline.suggest.self_trained import combine, self_trained_prior
from pipeline.suggest.zero_shot import softmax_suggestions


def _noisy_prior_set(seed=0, classes=6, per_class=70, dims=16):
    """Well separated blobs whose appended score block calls only about half of the images right."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(classes), per_class)
    centers = rng.normal(0, 1, (classes, dims)) * 3.0
    x = centers[y] + rng.normal(0, 0.6, (len(y), dims))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    scores = rng.normal(0, 1.0, (len(y), classes))
    scores[np.arange(len(y)), y] += 1.0  # the true class leads on average, often not
    scores = 0.3 * scores
    return np.concatenate([x, scores], axis=1).astype(np.float32), scores, y


def test_combine_multiplies_and_renormalises():
    prior = softmax_suggestions(["a", "b", "c"], np.array([[1.0, 0.9, 0.0], [0.0, 0.0, 1.0]]), 1.0)
    head = np.array([[0.1, 0.8, 0.1], [0.2, 0.2, 0.6]])
    out = combine(prior, head, power=1.0)
    expect = prior.proba * head
    expect /= expect.sum(1, keepdims=True)
    assert np.allclose(out.proba, expect, atol=1e-6)
    assert out.top.tolist() == [1, 2] and out.classes == ["a", "b", "c"]
    assert np.allclose(out.confidence, expect.max(1), atol=1e-6)
    assert np.allclose(combine(prior, head, power=0.0).proba, prior.proba, atol=1e-6)  # power 0: the prior itself
    with pytest.raises(ValueError, match="do not match"):
        combine(prior, head[:, :2])
    with pytest.raises(ValueError, match="power"):
        combine(prior, head, power=-1)


def test_a_head_trained_on_the_images_corrects_a_weak_prior():
    features, scores, y = _noisy_prior_set()
    classes = [str(c) for c in range(scores.shape[1])]
    prior = softmax_suggestions(classes, scores, 8.0)
    before = float(np.mean(prior.top == y))
    after = self_trained_prior(features, prior, seed=0, epochs=30, max_steps=None)
    assert isinstance(after, Suggestions) and after.classes == classes
    assert np.allclose(after.proba.sum(1), 1.0, atol=1e-4)
    accuracy = float(np.mean(after.top == y))
    assert before < 0.75 and accuracy >= before + 0.10, (before, accuracy)


def test_features_without_the_score_block_are_refused():
    prior = softmax_suggestions(["a", "b"], np.zeros((5, 2)), 1.0)
    with pytest.raises(ValueError, match="score columns"):
        self_trained_prior(np.zeros((5, 2), np.float32), prior)
    with pytest.raises(ValueError, match="score columns"):
        self_trained_prior(np.zeros((4, 6), np.float32), prior)
