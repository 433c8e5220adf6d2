"""Keeping a local folder and a server folder in sync: the binding, the ignore rules, the local
tree, the three-way plan, its safety halt and summary, moving the files, and watching."""
