"""Neural-network modules: the Module base, Linear/Embedding, RNN/LSTM/GRU cells and the
layers that unroll them over time (each timestep under scope "<layer>/t=<t>")."""
