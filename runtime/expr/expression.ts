// placeholder: see task description (helper fills in)
