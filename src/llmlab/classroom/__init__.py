"""Tools for whoever runs a workshop, not for the learners in it: the agendas
(agendas.py), notebooks as slide decks (slides.py), how many learners one server
takes (loadtest.py), and the class report from learners' exported progress (report.py)."""
