"""``yujing district-day``: a whole simulated day of the district, end to end, measured.

(**reading** → signal → alert → order → notification → **people** → update.)
:mod:`streams.tools.day.people` is the people as processes on the real topics and
stubs; :mod:`streams.tools.day.run` starts everything, runs the day and reports it.
The pure parts (the world, the incident mix, the people's decision models and
the expected-breach bookkeeping) are in :mod:`streams.tools.simulate`.
"""
