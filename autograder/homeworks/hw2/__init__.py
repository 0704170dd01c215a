"""hw2, neural networks and backprop: what each question asks of the notebook and how it is judged.

Each question is declared as a function ``qN(ask)``, as in :mod:`autograder.homeworks.hw1`. The
contract is ASSIGNMENTS.md; the standard is :mod:`.reference`; the usual mistakes, named in the
feedback, are in :mod:`.mistakes`; the network the grader hands to the notebook is :mod:`.network`.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import torch

from autograder.homeworks import Homework, Replies, Score
from autograder.homeworks.hw2 import mistakes
from autograder.homeworks.hw2 import reference as ref
from autograder.homeworks.hw2.network import network
from autograder.homeworks.mnist import all_images, split, test_set, training_images
from autograder.judging import compare, gradcheck
from autograder.judging.asking import (
    DTYPES, TRAINING, Asks, accuracy_check, reply_item, bce_mixups, generator, own_gradcheck, randn, requires_grad, shape_of, short,
    tensor_problem, trajectory_check,
)
from autograder.judging.compare import check
from autograder.judging.results import Check
from autograder.sandbox.codec import GraderFunction
from autograder.sandbox.protocol import Reply

PARAMETERS = ("W1", "b1", "w2", "b2")

# q12: the fixed split, seed and training the accuracy bar was measured on, and the bar (reference minus 2 points).
# The training is the grader's own train_model (q10 judges the notebook's), with a step size that needs few steps.
Q12_SEED, Q12_SAMPLES, Q12_VAL = 1234, 4000, 1000
Q12_SETTINGS = {"alpha": 0.1, "n_steps": 200, "log_every": 200}
Q12_REFERENCE_ACCURACY = 0.943
Q12_BAR = round(Q12_REFERENCE_ACCURACY - 0.02, 3)


def _network_inputs(rng: random.Random, dtype, classifier: bool):
    n, d, h = rng.randint(5, 40), rng.randint(2, 8), rng.randint(3, 10)
    X = randn(rng, n, d, dtype=dtype)
    params = (randn(rng, h, d, dtype=dtype), randn(rng, h, dtype=dtype), randn(rng, h, dtype=dtype), randn(rng, 1, dtype=dtype))
    y = (torch.rand(n, generator=torch.Generator().manual_seed(rng.randrange(2**31))) < 0.5).to(dtype) if classifier \
        else randn(rng, n, dtype=dtype)
    return X, y, params


def q1(ask: Asks) -> Score:
    cases = {dtype: _network_inputs(ask.rng, dtype, False) for dtype in DTYPES}
    for dtype, (X, _, params) in cases.items():
        ask.call("mlp_forward", X, *params, key=dtype)

    def score(r: Replies) -> list[Check]:
        checks = []
        for dtype, (X, _, params) in cases.items():
            what = f"mlp_forward for X, W1, b1, w2, b2 of shapes {shape_of(X, *params)}"
            X64, W1, b1, w2, b2 = X.double(), *(p.double() for p in params)
            checks.append(check(f"predictions {short(dtype)}", 1, tensor_problem(
                r[dtype], ref.mlp_forward(X64, W1, b1, w2, b2), dtype, what, known=mistakes.forward(X64, W1, b1, w2, b2))))
        return checks

    return score


def _manual_network_gradients(name: str, output, gradients, classifier: bool, weight: float) -> Callable[[Asks], Score]:
    """q2 and q4: every gradient of the dict, both dtypes (``weight`` each), then gradcheck of the float64 ones
    against the loss ``output(predictions, y)`` of the student's own mlp_forward.

    Wrong gradients are diagnosed against the usual mistakes (:func:`mistakes.backprop`).
    """

    def declaration(ask: Asks) -> Score:
        cases = {dtype: _network_inputs(ask.rng, dtype, classifier) for dtype in DTYPES}
        for dtype, (X, y, params) in cases.items():
            ask.call(name, X, y, *params, key=dtype, manual=True)
        X, y, params = cases[torch.float64]
        point, y64 = tuple(t.double() for t in (X, *params)), y.double()
        ask.probe("each", "mlp_forward", gradcheck.points(point, [1, 2, 3, 4]), key="forward around")

        def score(r: Replies) -> list[Check]:
            checks = []
            for dtype, (X, y, params) in cases.items():
                reply = r[dtype]
                at = f"for X, y, W1, b1, w2, b2 of shapes {shape_of(X, y, *params)}"
                point64 = [t.double() for t in (X, y, *params)]
                expected = gradients(*point64)
                problem = compare.reply_problem(reply, f"{name} {at}")
                if problem is None and not isinstance(reply.value, dict):
                    problem = f"{name} {at} returned {type(reply.value).__name__}, expected a dict with keys {', '.join(PARAMETERS)}"
                known = mistakes.backprop(*point64, classifier)
                key_problems = {}
                for key in PARAMETERS:
                    what = f"{name}(...)[{key!r}] {at}"
                    key_problem = problem or (f"{what}: missing" if key not in reply.value else None)
                    key_problems[key] = key_problem or tensor_problem(reply_item(reply, key), expected[key], dtype, what,
                                                                      n=X.shape[0], known=known[key])
                weights_right = problem is None and key_problems["W1"] is None and key_problems["w2"] is None
                for key in PARAMETERS:
                    bias_only = weights_right and key.startswith("b") and key_problems[key]
                    note = " (the weight gradients are right: only the bias gradient is wrong)" if bias_only else ""
                    checks.append(check(f"{key} {short(dtype)}", weight, key_problems[key] and key_problems[key] + note))
            loss = "loss (of your mlp_forward)"
            own = own_gradcheck(r["forward around"], "mlp_forward", r[torch.float64], name, point, [1, 2, 3, 4], _dict_vjps,
                                PARAMETERS, output=lambda predictions: output(predictions, y64))
            checks.append(gradcheck.verdict(f"gradcheck of {name} against the loss", 2, own, _forward_right(r["forward around"], point),
                                            all(c.passed for c in checks[-4:]), loss, name))
            return checks

        return score

    return declaration


def _dict_vjps(grads) -> list:
    if not isinstance(grads, dict):
        raise TypeError(f"a {type(grads).__name__}, not the dict of gradients")
    return [lambda g, grad=grads[key]: g * grad for key in PARAMETERS]


def _forward_right(values: Reply, point) -> bool:
    """Whether the student's mlp_forward, at the centre of the gradcheck, is the network's forward."""
    if values.status != "ok" or not isinstance(values.value, list) or not values.value:
        return False
    return compare.tensor_mismatch(values.value[0], ref.mlp_forward(*point), torch.float64, 1e-9, 1e-10, "") is None


q2 = _manual_network_gradients("mlp_grads", ref.mse, ref.mlp_grads, classifier=False, weight=1.25)
q4 = _manual_network_gradients("classifier_grads", ref.bce_with_logits, ref.classifier_grads, classifier=True, weight=1)


def q3(ask: Asks) -> Score:
    rng = ask.rng
    cases = {}
    for dtype in DTYPES:
        x = randn(rng, *rng.choice([(rng.randint(2, 30),), (rng.randint(2, 5), rng.randint(2, 5))]), dtype=dtype, scale=2.0)
        cases[dtype] = x, [randn(rng, *x.shape, dtype=dtype), randn(rng, *x.shape, dtype=dtype), torch.ones_like(x)]
        ask.probe("vjp", "Tanh", *cases[dtype], key=dtype)
    x64 = cases[torch.float64][0]
    one_hots = list(torch.eye(x64.numel(), dtype=torch.float64).reshape(-1, *x64.shape))
    ask.probe("vjp", "Tanh", x64, one_hots, key="jacobian")  # its rows, for gradcheck
    ask.probe("each", "Tanh", gradcheck.points((x64,), [0]), key="around", method="apply")

    def score(r: Replies) -> list[Check]:
        for dtype in DTYPES:
            reply = r[dtype]
            if reply.status == "ok" and not reply.observed.get("is_function"):
                return [Check("Tanh", 1, False, "Tanh must be a subclass of torch.autograd.Function, used as Tanh.apply(x)")]
            if reply.status == "ok" and reply.observed.get("backward_calls_inside", 0) > 0:
                return [Check("manual backward", 1, False, "Tanh.backward ran a backward pass (autograd) itself: it must "
                                                          "compute the gradient by hand, from the saved output; this question scores 0")]
        checks = []
        for dtype, (x, outputs) in cases.items():
            reply, at = r[dtype], f"for x of shape {shape_of(x)}"
            problem = compare.reply_problem(reply, f"Tanh.apply(x) {at}")
            forward = problem or tensor_problem(reply_item(reply, "forward"), torch.tanh(x.double()), dtype, f"Tanh.apply(x) {at}")
            checks.append(check(f"forward {short(dtype)}", 0.5, forward))
            for n, g in enumerate(outputs):
                what = f"the gradient Tanh.backward gives {at} and a{' ones' if n == 2 else ' random'} grad_output"
                got = None if problem else reply.value["vjps"][n]
                vjp = problem or compare.tensor_mismatch(got, ref.tanh_vjp(x.double(), g.double()), dtype,
                                                         *compare.tolerances(dtype), what, known=mistakes.tanh_backward(x.double(), g.double()))
                checks.append(check(f"backward {short(dtype)} #{n + 1}", 1, vjp))
        own = own_gradcheck(r["around"], "Tanh.apply", r["jacobian"], "Tanh.backward", (x64,), [0],
                            lambda value: gradcheck.from_rows(value["vjps"], x64.shape), ["x"])
        checks.append(gradcheck.verdict("gradcheck of Tanh.backward against Tanh.forward", 1.5, own, checks[-4].passed,
                                        all(c.passed for c in checks[-3:]), "Tanh.forward", "Tanh.backward"))
        saves = compare.reply_problem(r[torch.float64], "Tanh") or (
            None if r[torch.float64].observed.get("saves_output") else
            "Tanh.forward does not save its output: save tanh(x) (ctx.save_for_backward(out)) and compute the backward "
            "from it, without a second tanh")
        checks.append(check("backward from the saved output", 1.5, saves))
        return checks

    return score


def q5(ask: Asks) -> Score:
    calls = [(ask.rng.randint(2, 30), ask.rng.randint(2, 20), ask.rng.randrange(10**6)) for _ in range(2)]
    for arguments in calls:
        ask.call("fix_leaf_init", *arguments, key=arguments)

    def score(r: Replies) -> list[Check]:
        checks = []
        for d_in, d_hidden, seed in calls:
            reply = r[d_in, d_hidden, seed]
            what = f"fix_leaf_init({d_in}, {d_hidden}, seed={seed})"
            problem = compare.reply_problem(reply, what)
            if problem is None and not (isinstance(reply.value, (list, tuple)) and len(reply.value) == 4):
                problem = f"{what} returned {type(reply.value).__name__}, expected the list [W1, b1, W2, b2]"
            expected = ref.leaf_init(d_in, d_hidden, seed)
            for name, got, want in zip(("W1", "b1", "W2", "b2"), reply.value if problem is None else [], expected):
                info = reply.infos.get(id(got))
                problem = problem or compare.tensor_mismatch(got, want, torch.float32, 1e-6, 1e-9, f"{name} of {what}")
                if problem is None and not (info and info.is_leaf and info.requires_grad):
                    problem = (f"{name} of {what} is not a leaf that requires grad: scale first, then mark it, "
                               f"e.g. (0.01 * torch.randn(...)).requires_grad_()")
            checks.append(check(what, 1, problem))
        return checks

    return score


def q6(ask: Asks) -> Score:
    rng = ask.rng
    cases = {}
    for dtype in DTYPES:
        shapes = [(rng.randint(2, 6), rng.randint(2, 6)), (rng.randint(2, 6),), (1,)]
        values = [randn(rng, *s, dtype=dtype) for s in shapes]
        grads = [randn(rng, *s, dtype=dtype) for s in shapes]
        cases[dtype] = values, grads, rng.choice([0.01, 0.1, 0.5])
        ask.probe("update", "fix_update", *cases[dtype], key=dtype)

    def score(r: Replies) -> list[Check]:
        checks = []
        for dtype, (values, grads, alpha) in cases.items():
            reply = r[dtype]
            what = f"fix_update on {len(values)} {short(dtype)} parameters of shapes {', '.join(str(tuple(v.shape)) for v in values)}, alpha={alpha}"
            problem = compare.reply_problem(reply, what)
            unchanged = problem is None and all(
                isinstance(got, torch.Tensor) and got.shape == v.shape and torch.equal(got, v) for got, v in zip(reply.value, values))
            updated = problem or (f"{what} left the parameters unchanged: `p = p - alpha * p.grad` only rebinds the name p; "
                                  f"update the same tensor in place under torch.no_grad() (p -= alpha * p.grad)" if unchanged else None)
            for n, (got, v, g) in enumerate(zip(reply.value if problem is None else [], values, grads)):
                updated = updated or compare.tensor_mismatch(
                    got, (v - alpha * g).double(), dtype, *compare.tolerances(dtype), f"parameter {n} after {what}",
                    known=[((v + alpha * g).double(), "the step goes uphill: subtract the gradient (p -= alpha * p.grad)")])
            checks.append(check(f"updated in place {short(dtype)}", 2, updated))
            seen = reply.observed
            rest = updated and "the update above is wrong"
            rest = rest or (None if seen.get("grads_cleared") else f"after {what} the .grad of the parameters is still set: clear it (None or zeros)")
            rest = rest or (None if seen.get("leaves") else f"after {what} the parameters are no longer leaves that require grad")
            rest = rest or (None if seen.get("returned_none") else f"{what} should return None (it changes the parameters in place)")
            checks.append(check(f"gradients cleared, leaves kept {short(dtype)}", 1, rest))
        return checks

    return score


def _network_state(rng: random.Random, n_features: int, hidden: int) -> dict:
    """Random float32 weights of a n_features-hidden-2 tanh network."""
    return {"fc1.weight": randn(rng, hidden, n_features, dtype=torch.float32, scale=0.5),
            "fc1.bias": randn(rng, hidden, dtype=torch.float32),
            "fc2.weight": randn(rng, 2, hidden, dtype=torch.float32, scale=0.5), "fc2.bias": randn(rng, 2, dtype=torch.float32)}


def q7(ask: Asks) -> Score:
    rng = ask.rng
    d, h = rng.randint(3, 12), rng.randint(3, 12)
    state, X = _network_state(rng, d, h), randn(rng, rng.randint(4, 30), d, dtype=torch.float32)
    ask.probe("evaluate", "fix_evaluate", GraderFunction.of(network, state), X)

    def score(r: Replies) -> list[Check]:
        reply = r["fix_evaluate"]
        what = f"fix_evaluate(model, X) for a {d}-{h}-2 network and X of shape {tuple(X.shape)}"
        problem = compare.reply_problem(reply, what)
        expected = ref.network_from({k: v.double() for k, v in state.items()})(X.double()).detach()
        modes = reply.observed.get("forward_grad_modes", [])
        no_graph = problem or (f"{what} never called the model" if not modes else None) or (
            f"{what} ran the model's forward with gradient mode on, so it built a graph: wrap the call in torch.no_grad() "
            f"(a .detach() afterwards is too late)" if any(modes) else None)
        detached = f"{what} returned a tensor that requires grad" if requires_grad(reply) else None
        return [check("evaluation without a graph", 1, no_graph or tensor_problem(reply, expected, torch.float32, what) or detached)]

    return score


def _bce_inputs(rng: random.Random, dtype, extreme: bool):
    n = rng.randint(5, 60)
    logits = randn(rng, n, scale=3.0)
    if extreme:
        logits = 1000.0 * torch.sign(logits)
    y = (torch.rand(n, generator=torch.Generator().manual_seed(rng.randrange(2**31))) < 0.5).double()
    return logits.to(dtype), y.to(dtype)


def q8(ask: Asks) -> Score:
    cases = {dtype: {extreme: _bce_inputs(ask.rng, dtype, extreme) for extreme in (False, True)} for dtype in DTYPES}
    for dtype, pair in cases.items():
        for extreme, (logits, y) in pair.items():
            ask.call("fix_stable_bce", logits, y, key=(dtype, extreme))

    def score(r: Replies) -> list[Check]:
        checks = []
        for dtype, pair in cases.items():
            problem = None
            for extreme, (logits, y) in pair.items():
                what = f"fix_stable_bce for {'logits of +-1000' if extreme else 'logits'} of shape {shape_of(logits)}"
                problem = problem or tensor_problem(r[dtype, extreme], ref.stable_bce(logits.double(), y.double()), dtype, what,
                                                    known=bce_mixups(logits.double(), y.double()))
            checks.append(check(f"stable {short(dtype)}", 1, problem))
        return checks

    return score


def q9(ask: Asks) -> Score:
    rng = ask.rng
    sizes = [{}, {"n_features": rng.randint(5, 60), "hidden": rng.randint(3, 20)}]
    cases = {f"SimpleNN({', '.join(f'{k}={v}' for k, v in init.items())})":
             (init, randn(rng, rng.randint(3, 20), init.get("n_features", 784), dtype=torch.float32)) for init in sizes}
    for what, (init, X) in cases.items():
        ask.probe("module", "SimpleNN", X, **init, key=what)

    def score(r: Replies) -> list[Check]:
        checks = []
        for what, (init, X) in cases.items():
            reply = r[what]
            n_features, hidden = init.get("n_features", 784), init.get("hidden", 32)
            problem = compare.reply_problem(reply, what)
            if problem is None and not reply.observed.get("is_module"):
                problem = f"{what} is not a torch.nn.Module"
            architecture = problem or _architecture_problem(reply, n_features, hidden, what)
            checks.append(check(f"architecture {what}", 2, architecture))
            output = architecture or tensor_problem(
                reply_item(reply, "output"),
                ref.network_from({k: v.double() for k, v in reply.value["state"].items()})(X.double()).detach(),
                torch.float32, f"{what}(X) for X of shape {tuple(X.shape)}")
            checks.append(check(f"forward {what}", 1, output))
        return checks

    return score


def _architecture_problem(reply, n_features: int, hidden: int, what: str) -> str | None:
    layers = reply.observed.get("layers", {})
    if layers.get("fc1") != "Linear" or layers.get("fc2") != "Linear":
        return f"{what} should have the layers fc1 and fc2, both torch.nn.Linear (it has {layers or 'none'})"
    state = reply.value["state"]
    shapes = {k: tuple(v.shape) for k, v in state.items() if isinstance(v, torch.Tensor)}
    expected = {"fc1.weight": (hidden, n_features), "fc1.bias": (hidden,), "fc2.weight": (2, hidden), "fc2.bias": (2,)}
    if shapes != expected:
        return f"{what} has the weights {shapes}, expected {expected} (tanh between the layers, 2 logits out)"
    return None


def q10(ask: Asks) -> Score:
    rng = ask.rng
    data = split(rng.randint(900, 1300), rng.randint(200, 300), rng.randrange(10**6))
    state = ref.fresh_state(784, rng.randint(8, 32), generator(rng))
    settings = {"alpha": rng.choice([0.05, 0.1]), "n_steps": rng.randint(60, 120), "log_every": rng.choice([5, 10, 20])}
    ask.probe("train", "train_model", GraderFunction.of(network, state), *data, **settings, cost=TRAINING)

    def score(r: Replies) -> list[Check]:
        reply = r["train_model"]
        what = (f"train_model on a fresh 784-{state['fc1.bias'].shape[0]}-2 network and the grader's split "
                f"({data[0].shape[0]} train, {data[2].shape[0]} val images; alpha={settings['alpha']}, "
                f"n_steps={settings['n_steps']}, log_every={settings['log_every']})")
        model = ref.network_from(state)
        expected = ref.train_model(model, *data, **settings)
        problem = compare.reply_problem(reply, what)
        metrics = reply.value["returned"] if problem is None else None
        if problem is None and not isinstance(metrics, dict):
            problem = f"{what} returned {type(metrics).__name__}, expected the metrics dict"
        seen = reply.observed
        in_place = problem or (None if seen.get("same_parameters") else
                               f"{what} replaced the model's parameters: update them in place (p -= alpha * p.grad under no_grad)")
        weights = problem
        for name, want in model.state_dict().items():
            weights = weights or compare.tensor_mismatch(reply.value["state"].get(name), want, torch.float32, 1e-3, 1e-5,
                                                         f"the model's {name} after {what}")
        no_optim = problem or (f"{what} made a torch.optim optimizer ({', '.join(seen['optimizers'])}): write the update yourself"
                               if seen.get("optimizers") else None)
        return [trajectory_check("trajectory", 7, problem, metrics, expected, data, what,
                                 lambda: mistakes.training(state, data, settings)),
                check("final weights", 3, weights), check("model updated in place", 2, in_place),
                check("no torch.optim", 2, no_optim)]

    return score


LABELS = ("Logistic (train)", "Logistic (val)", "Neural Net (train)", "Neural Net (val)")


def _fake_metrics(rng: random.Random, n: int, log_every: int) -> dict:
    metrics = {"iterations": [float(k * log_every) for k in range(n)]}
    for key in ("train_loss", "val_loss", "train_acc", "val_acc"):
        metrics[key] = [round(rng.uniform(0.05, 0.95), 6) for _ in range(n)]
    return metrics


def q11(ask: Asks) -> Score:
    rng = ask.rng
    logistic = _fake_metrics(rng, rng.randint(5, 20), rng.choice([10, 20]))
    network = _fake_metrics(rng, rng.randint(5, 20), rng.choice([5, 10]))
    ask.probe("figure", "plot_metrics", logistic, network)

    def score(r: Replies) -> list[Check]:
        reply = r["plot_metrics"]
        what = "plot_metrics(logistic_metrics, nn_metrics)"
        problem = compare.reply_problem(reply, what)
        if problem is None and not reply.observed.get("is_figure"):
            problem = f"{what} returned {reply.observed.get('type')}, expected a matplotlib Figure"
        if problem is None and len(reply.value) != 2:
            problem = f"{what} drew {len(reply.value)} axes, expected two: loss, then accuracy"
        checks = [check("a figure with two axes", 2, problem)]
        for n, (kind, metric) in enumerate((("loss", "loss"), ("accuracy", "acc"))):
            axis_problem = problem or _lines_problem(reply.value[n], logistic, network, metric, f"the {kind} axis of {what}")
            checks.append(check(f"{kind} lines", 3, axis_problem))
        return checks

    return score


def _lines_problem(lines: list, logistic: dict, network: dict, metric: str, what: str) -> str | None:
    labelled = {line["label"]: line for line in lines if not line["label"].startswith("_")}
    if sorted(labelled) != sorted(LABELS):
        return f"{what} has the labelled lines {sorted(labelled)}, expected {list(LABELS)}"
    for label in LABELS:
        metrics = logistic if label.startswith("Logistic") else network
        key = f"{'train' if 'train' in label else 'val'}_{metric}"
        line = labelled[label]
        if line["x"] != metrics["iterations"] or not all(abs(a - b) < 1e-9 for a, b in zip(line["y"], metrics[key])) \
                or len(line["y"]) != len(metrics[key]):
            other = network if metrics is logistic else logistic
            if line["y"] == other[key]:
                return f"{what}: the line {label!r} shows the other model's {key}: plot each model's own metrics (the lecture's bug)"
            return f"{what}: the line {label!r} does not show the given iterations and {key}"
    return None


def q12(ask: Asks) -> Score:
    X_train, y_train, X_val, y_val = split(Q12_SAMPLES, Q12_VAL, Q12_SEED)
    ask.probe("train_fresh", "SimpleNN,train_model", X_train, y_train, X_val, y_val, key="trained SimpleNN", seed=Q12_SEED,
              cost=TRAINING, substitute={"train_model": GraderFunction.of(ref.train_model)}, **Q12_SETTINGS)

    def score(r: Replies) -> list[Check]:
        reply = r["trained SimpleNN"]
        what = (f"SimpleNN() trained by the grader's train_model on its split ({X_train.shape[0]} train, "
                f"{X_val.shape[0]} val images, alpha={Q12_SETTINGS['alpha']}, n_steps={Q12_SETTINGS['n_steps']})")
        problem = compare.reply_problem(reply, what)
        if problem is None:
            try:
                model = ref.network_from({k: v.float() for k, v in reply.value["state"].items()})
            except (KeyError, RuntimeError, AttributeError):
                problem = f"{what}: its weights are not those of SimpleNN (fc1: Linear(784, 32), fc2: Linear(32, 2))"
        if problem:
            return [Check("test accuracy", 1, False, problem)]
        X_test, y_test = test_set()
        with torch.no_grad():
            accuracy = ref.accuracy(model(X_test), y_test)
        return [accuracy_check(accuracy, len(X_test), Q12_BAR, Q12_REFERENCE_ACCURACY,
                               measured="your SimpleNN's trained weights in the specified network (fc1, tanh, fc2)",
                               unseen_by="the network", advice="; a network other than the specified one is measured as the specified one")]

    return score


def q13(ask: Asks) -> Score:
    rng = ask.rng
    cases = {}
    for dtype in DTYPES:
        x = randn(rng, rng.randint(3, 12), dtype=dtype, scale=2.0)
        cases[dtype] = x, randn(rng, x.shape[0], dtype=dtype)
        ask.call("softmax", x, key=("softmax", dtype))
        ask.call("softmax_vjp", *cases[dtype], key=("softmax_vjp", dtype), manual=True)
    large = 500.0 + randn(rng, rng.randint(3, 12), dtype=torch.float32, scale=20.0)  # exp(500) overflows float32
    ask.call("softmax", large, key="softmax at large entries")
    x64 = cases[torch.float64][0]
    rows = [("Jacobian row", k) for k in range(x64.numel())]  # softmax_vjp at each one-hot vector, for gradcheck
    for key, e in zip(rows, torch.eye(x64.numel(), dtype=torch.float64)):
        ask.call("softmax_vjp", x64, e, key=key, manual=True)
    ask.probe("each", "softmax", gradcheck.points((x64,), [0]), key="softmax around")
    A = randn(rng, rng.randint(2, 6), rng.randint(2, 6))
    x_linear, x_mixed = randn(rng, A.shape[1]), randn(rng, rng.randint(3, 8))
    jacobians = {"x -> A x": (ref.linear_map(A), GraderFunction.of(ref.linear_map, A), x_linear, f" with A of shape {tuple(A.shape)}"),
                 "x -> tanh(x) * roll(x, 1) + x.sum()": (ref.squash, GraderFunction.of(ref.squash), x_mixed, "")}
    for key, (_, sent, x, _) in jacobians.items():
        ask.call("jacobian_from_vjps", sent, x, key=key)

    def score(r: Replies) -> list[Check]:
        checks = []
        for dtype, (x, v) in cases.items():
            at = f"at x of shape {shape_of(x)}"
            checks.append(check(f"softmax {short(dtype)}", 0.5, tensor_problem(r["softmax", dtype], ref.softmax(x.double()), dtype,
                                                                               f"softmax {at}")))
            checks.append(check(f"softmax_vjp {short(dtype)}", 1.5, tensor_problem(
                r["softmax_vjp", dtype], v.double() @ ref.softmax_jacobian(x.double()), dtype, f"softmax_vjp(x, v) {at}",
                known=mistakes.softmax_vjp(x.double(), v.double()))))
        checks.append(check("softmax at large entries", 0.5, tensor_problem(
            r["softmax at large entries"], ref.softmax(large.double()), large.dtype,
            f"softmax at x of shape {shape_of(large)} with entries near 500",
            known=[(torch.full_like(large, float("nan")), "exp(500) overflows to inf, and inf / inf is nan: subtract the "
                                                          "largest entry first (softmax does not change when a constant is subtracted)")])))
        own = own_gradcheck(r["softmax around"], "softmax", _rows_reply([r[key] for key in rows]), "softmax_vjp", (x64,), [0],
                            gradcheck.from_rows, ["x"])
        checks.append(gradcheck.verdict("gradcheck of softmax_vjp against softmax", 1.5, own, checks[2].passed,
                                        checks[3].passed, "softmax", "softmax_vjp"))
        for key, (function, _, x, detail) in jacobians.items():
            what = f"jacobian_from_vjps(fn, x) for fn {key}{detail} and x of shape {shape_of(x)}"
            expected = torch.autograd.functional.jacobian(function, x)
            problem = tensor_problem(r[key], expected, x.dtype, what, known=[(expected.T, "it is the transpose: row i holds "
                                                                                         "the gradient of output i (one backward per output)")])
            if problem is None and r[key].observed.get("backward_calls", 0) == 0:
                problem = f"{what} ran no backward pass: build each row with one backward (or torch.autograd.grad) call"
            checks.append(check(f"jacobian of {key}", 1, problem))
        return checks

    return score


def _rows_reply(rows: list[Reply]) -> Reply:
    """The replies of softmax_vjp at each one-hot vector, as one reply whose value is the list of rows."""
    failed = next((reply for reply in rows if reply.status != "ok"), None)
    return failed or Reply("ok", value=[reply.value for reply in rows])


HOMEWORK = Homework.declared("hw2", {
    "q1": q1, "q2": q2, "q3": q3, "q4": q4, "q5": q5, "q6": q6, "q7": q7, "q8": q8, "q9": q9, "q10": q10,
    "q11": q11, "q12": q12, "q13": q13,
}, seed=20261127, data=training_images, offline_data=all_images)
