"""The summary emulator's error against the summary's sample variance at the fiducial point:
(mu(fiducial) - mean of the simulated summaries) / their standard deviation, per summary.
Usage: python scripts/maps_emulator_check.py models/maps_cnn_summary models/maps_cnn_fiducial.npz [KEY]
(KEY: the summaries' array, t_cnn by default)
(reads the MLP's safetensors + JSON with numpy only)."""
import json, struct, numpy as np, sys
def load(base):
    side=json.load(open(base+'.json'))
    b=open(base+'.safetensors','rb').read()
    n=struct.unpack('<Q',b[:8])[0]; h=json.loads(b[8:8+n]); data=b[8+n:]
    T={k:np.frombuffer(data[v['data_offsets'][0]:v['data_offsets'][1]],dtype='<f4').reshape(v['shape']) for k,v in h.items() if k!='__metadata__'}
    return side,T
def predict(base,x):
    side,T=load(base); a=side['architecture']; L=len(a['sizes'])-1
    z=(np.asarray(x,float)-side['inputs']['mean'])/side['inputs']['std']
    for l in range(L):
        z=z@T[f'dense{l}.weight'].T.astype(float)+T[f'dense{l}.bias']
        if l<L-1: z=np.tanh(z) if a['activation']=='tanh' else np.maximum(z,0)
    return z*side['outputs']['std']+side['outputs']['mean']
if __name__=='__main__':
    fid=[30.0,4.69897,40.5,0.5]
    mu=predict(sys.argv[1],[fid])[0]
    t=np.load(sys.argv[2])[sys.argv[3] if len(sys.argv)>3 else 't_cnn']
    m,s=t.mean(0),t.std(0,ddof=1)
    print('emulator mu(fid)',mu); print('sims mean       ',m); print('sims sd         ',s)
    print('(mu - mean)/sd  ',(mu-m)/s, ' sd of the mean/sd', 1/np.sqrt(len(t)))
