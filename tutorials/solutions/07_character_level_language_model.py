# Solutions to the exercises of 07_character_level_language_model.ipynb. Each section replaces
# the notebook cell tagged "solution" with the same exercise number (scripts/exercises.py).

# %% exercise 7.1
def next_char_probs(logits, temperature):
    """softmax(logits / temperature), shape (V,); temperature 0: one-hot on the argmax."""
    logits = np.asarray(logits, dtype=np.float64)
    if temperature == 0:
        return np.eye(logits.size)[logits.argmax()]
    z = logits / temperature
    e = np.exp(z - z.max())
    return e / e.sum()

# %% exercise 7.2
def sample_by_hand(model, prime, length, temperature, seed):
    """prime + `length` sampled characters, identical to sample_text(...) with the same arguments."""
    rng = np.random.default_rng(seed)
    with ar.no_grad():
        y, state = model(task.one_hot(task.encode(prime))[:, None, :])   # read the prime
        out = []
        for _ in range(length):
            p = next_char_probs(y.data[-1, 0], temperature)
            if temperature == 0:
                next_id = int(p.argmax())
            else:
                cumulative = np.cumsum(p)
                u = rng.random() * cumulative[-1]
                next_id = min(int((cumulative < u).sum()), len(p) - 1)
            out.append(next_id)
            y, state = model(task.one_hot(np.array([[next_id]])), state)
    return prime + task.decode(out)
