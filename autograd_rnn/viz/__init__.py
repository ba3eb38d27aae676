"""Graph export and visualisation: Graphviz DOT/SVG, networkx, analysis, step-through."""
