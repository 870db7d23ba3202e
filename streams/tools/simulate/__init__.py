"""The simulated district behind ``yujing simulate``: its world, its plan and its events.

(**reading** / **department event** → signal → alert → order → notification.)
``world`` takes the places and sensors from the district model, ``plan``
injects incidents and faults with their ground truth, ``simulation`` makes the
readings and department records in event-time order.
"""
