(* Reverse-mode AD with a derivative choice (THEORY.md section 4) and the
   counterexample network of T5(a) (THEORY.md section 5).  A choice
   D : nat -> R gives the number used at neuron k when y_k(w) is a kink of
   sigma_k.  Adjoints, computed from the top neuron down:
     zbar_k = dg/dz_k + sum_(j>k) ybar_j * dtau_j/dz_k
     ybar_k = zbar_k * D sigma_k (y_k)
     AD_D f(w)_p = dg/dw_p + sum_k ybar_k * dtau_k/dw_p
   and NS(w): some kink neuron has a non-zero adjoint zbar_k. *)
From Coq Require Import Reals Lra Lia List Arith Classical.
From ADCorrect Require Import Vec Activation Network.
Import ListNotations.
Open Scope R_scope.

Definition sum_list (l : list R) : R := fold_right Rplus 0 l.

(** * Definitions *)

Section AD.
Variable net : network.

(* D sigma_k (y_k(w)) with the choice D k at a kink *)
Definition dchoice (D : nat -> R) (w : vec) (k : nat) : R :=
  act_deriv_choice (sigma net k) (D k) (preact net w k).

(* zbar_k from the adjoints yb_j of the neurons j > k *)
Definition zbar_from (w : vec) (yb : nat -> R) (k : nat) : R :=
  eval (n_input net) w (zvec net w) (dneuron k (n_out net)) +
  sum_list (map (fun j => yb j * eval (n_input net) w (zvec net w) (dneuron k (tau net j)))
                (seq (S k) (n_size net - S k))).

(* Back-propagation with given activation slopes sl k (the number multiplied
   in at neuron k): adjoints ybar_j of the top m neurons j >= N - m (0 below) *)
Fixpoint ybars_sl (sl : nat -> R) (w : vec) (m : nat) : nat -> R :=
  match m with
  | O => fun _ => 0
  | S m' => let yb := ybars_sl sl w m' in
      fun j => if Nat.eq_dec j (n_size net - S m') then zbar_from w yb j * sl j
               else yb j
  end.

Definition ybar_sl (sl : nat -> R) (w : vec) (k : nat) : R := ybars_sl sl w (n_size net) k.
Definition zbar_sl (sl : nat -> R) (w : vec) (k : nat) : R := zbar_from w (ybar_sl sl w) k.

(* the propagated gradient, coordinate p *)
Definition grad_sl (sl : nat -> R) (w : vec) (p : nat) : R :=
  eval (n_input net) w (zvec net w) (dparam p (n_out net)) +
  sum_list (map (fun k => ybar_sl sl w k * eval (n_input net) w (zvec net w) (dparam p (tau net k)))
                (seq 0 (n_size net))).

(* AD with the choice D: the slopes D sigma_k (y_k) *)
Definition ybar (D : nat -> R) (w : vec) (k : nat) : R := ybar_sl (dchoice D w) w k.
Definition zbar (D : nat -> R) (w : vec) (k : nat) : R := zbar_sl (dchoice D w) w k.

(* AD_D f(w), coordinate p *)
Definition ad (D : nat -> R) (w : vec) (p : nat) : R := grad_sl (dchoice D w) w p.

Definition NS (D : nat -> R) (w : vec) : Prop :=
  exists k, In k (kink_neurons net w) /\ zbar D w k <> 0.

(** * The adjoint recursion *)

Lemma sum_list_map_ext {A : Type} (f g : A -> R) (l : list A) :
  (forall a, In a l -> f a = g a) -> sum_list (map f l) = sum_list (map g l).
Proof. intros H; f_equal; now apply map_ext_in. Qed.

Lemma sum_list_map_zero {A : Type} (f : A -> R) (l : list A) :
  (forall a, In a l -> f a = 0) -> sum_list (map f l) = 0.
Proof.
  induction l as [|a l IH]; intros H; unfold sum_list in *; simpl; [reflexivity|].
  rewrite H, IH; [ring | intros b Hb; apply H; now right | now left].
Qed.

Lemma zbar_from_ext (w : vec) (yb yb' : nat -> R) (k : nat) :
  (forall j, (k < j < n_size net)%nat -> yb j = yb' j) ->
  zbar_from w yb k = zbar_from w yb' k.
Proof.
  intros H; unfold zbar_from; f_equal; apply sum_list_map_ext.
  intros j Hj; apply in_seq in Hj; rewrite H by lia; reflexivity.
Qed.

Lemma ybars_below (sl : nat -> R) (w : vec) (m j : nat) :
  (m <= n_size net)%nat -> (j < n_size net - m)%nat -> ybars_sl sl w m j = 0.
Proof.
  induction m as [|m IH]; intros Hm Hj; simpl; [reflexivity|].
  destruct (Nat.eq_dec j (n_size net - S m)); [lia|]. apply IH; lia.
Qed.

Lemma ybars_stable (sl : nat -> R) (w : vec) (m m' j : nat) :
  (m <= m' <= n_size net)%nat -> (n_size net - m <= j)%nat ->
  ybars_sl sl w m' j = ybars_sl sl w m j.
Proof.
  intros [Hm Hm'] Hj; induction Hm as [|m' Hm IH]; [reflexivity|]; simpl.
  destruct (Nat.eq_dec j (n_size net - S m')); [lia|]. apply IH; lia.
Qed.

(* the step of the recursion at neuron N - S m, read with the final adjoints *)
Lemma ybars_step (sl : nat -> R) (w : vec) (m : nat) :
  (S m <= n_size net)%nat ->
  zbar_from w (ybars_sl sl w m) (n_size net - S m) = zbar_sl sl w (n_size net - S m).
Proof.
  intros Hm; apply zbar_from_ext; intros j Hj.
  unfold ybar_sl; symmetry; apply ybars_stable; lia.
Qed.

Lemma ybar_sl_eq (sl : nat -> R) (w : vec) (k : nat) :
  (k < n_size net)%nat -> ybar_sl sl w k = zbar_sl sl w k * sl k.
Proof.
  intros Hk; unfold ybar_sl.
  destruct (n_size net - k)%nat as [|m0] eqn:Hm; [lia|].
  rewrite (ybars_stable sl w (S m0) (n_size net) k) by lia; simpl.
  destruct (Nat.eq_dec k (n_size net - S m0)) as [Hk'|]; [|lia].
  rewrite Hk', ybars_step by lia; reflexivity.
Qed.

Lemma zbar_sl_eq (sl : nat -> R) (w : vec) (k : nat) :
  zbar_sl sl w k = eval (n_input net) w (zvec net w) (dneuron k (n_out net)) +
    sum_list (map (fun j => ybar_sl sl w j * eval (n_input net) w (zvec net w) (dneuron k (tau net j)))
                  (seq (S k) (n_size net - S k))).
Proof. reflexivity. Qed.

(* the defining equations of the adjoints *)
Lemma zbar_eq (D : nat -> R) (w : vec) (k : nat) :
  zbar D w k = eval (n_input net) w (zvec net w) (dneuron k (n_out net)) +
    sum_list (map (fun j => ybar D w j * eval (n_input net) w (zvec net w) (dneuron k (tau net j)))
                  (seq (S k) (n_size net - S k))).
Proof. reflexivity. Qed.

Lemma ybar_eq (D : nat -> R) (w : vec) (k : nat) :
  (k < n_size net)%nat -> ybar D w k = zbar D w k * dchoice D w k.
Proof. apply ybar_sl_eq. Qed.

Lemma ad_eq (D : nat -> R) (w : vec) (p : nat) :
  ad D w p = eval (n_input net) w (zvec net w) (dparam p (n_out net)) +
    sum_list (map (fun k => ybar D w k * eval (n_input net) w (zvec net w) (dparam p (tau net k)))
                  (seq 0 (n_size net))).
Proof. reflexivity. Qed.

(** * Dependence on the slopes and on the choices *)

(* Comparison of two propagations from the top down to neuron lo: at each
   neuron j >= lo the slopes agree, or the adjoint zbar_j (for sl2) is 0 *)
Lemma ybars_compare (sl1 sl2 : nat -> R) (w : vec) (lo : nat) :
  (forall j, (lo <= j < n_size net)%nat -> sl1 j = sl2 j \/ zbar_sl sl2 w j = 0) ->
  forall m j, (m <= n_size net)%nat -> (lo <= j)%nat -> ybars_sl sl1 w m j = ybars_sl sl2 w m j.
Proof.
  intros H m; induction m as [|m IH]; intros j Hm Hj; simpl; [reflexivity|].
  destruct (Nat.eq_dec j (n_size net - S m)) as [Hj'|]; [|apply IH; lia].
  rewrite (zbar_from_ext w (ybars_sl sl1 w m) (ybars_sl sl2 w m)) by (intros; apply IH; lia).
  rewrite Hj', ybars_step by lia.
  destruct (H (n_size net - S m)%nat ltac:(lia)) as [-> | ->]; ring.
Qed.

Lemma ybar_compare (sl1 sl2 : nat -> R) (w : vec) (lo : nat) :
  (forall j, (lo <= j < n_size net)%nat -> sl1 j = sl2 j \/ zbar_sl sl2 w j = 0) ->
  forall j, (lo <= j)%nat -> ybar_sl sl1 w j = ybar_sl sl2 w j.
Proof. intros H j Hj; apply (ybars_compare sl1 sl2 w lo H); lia. Qed.

(* adjoints at neurons >= lo - 1 *)
Lemma zbar_compare (sl1 sl2 : nat -> R) (w : vec) (k : nat) :
  (forall j, (k < j < n_size net)%nat -> sl1 j = sl2 j \/ zbar_sl sl2 w j = 0) ->
  zbar_sl sl1 w k = zbar_sl sl2 w k.
Proof.
  intros H; apply zbar_from_ext; intros j Hj.
  apply (ybar_compare sl1 sl2 w (S k)); [intros i Hi; apply H | ]; lia.
Qed.

Lemma grad_compare (sl1 sl2 : nat -> R) (w : vec) (p : nat) :
  (forall j, (j < n_size net)%nat -> sl1 j = sl2 j \/ zbar_sl sl2 w j = 0) ->
  grad_sl sl1 w p = grad_sl sl2 w p.
Proof.
  intros H; unfold grad_sl; f_equal; apply sum_list_map_ext; intros k Hk.
  rewrite (ybar_compare sl1 sl2 w 0); [reflexivity | intros j Hj; apply H; lia | lia].
Qed.

Lemma zbar_sl_depends_on_slopes_above (sl sl' : nat -> R) (w : vec) (k : nat) :
  (forall j, (k < j)%nat -> sl j = sl' j) -> zbar_sl sl w k = zbar_sl sl' w k.
Proof. intros H; apply zbar_compare; intros j Hj; left; apply H; lia. Qed.

(* the adjoint of neuron k only depends on the choices at neurons above k *)
Lemma zbar_depends_on_choices_above (D D' : nat -> R) (w : vec) (k : nat) :
  (forall j, (k < j)%nat -> D j = D' j) -> zbar D w k = zbar D' w k.
Proof.
  intros HD; apply zbar_sl_depends_on_slopes_above; intros j Hj.
  unfold dchoice; rewrite HD by exact Hj; reflexivity.
Qed.

Lemma ybar_depends_on_choices_from (D D' : nat -> R) (w : vec) (k : nat) :
  (forall j, (k <= j)%nat -> D j = D' j) -> ybar D w k = ybar D' w k.
Proof.
  intros HD; apply (ybar_compare _ _ w k); [|lia].
  intros j Hj; left; unfold dchoice; rewrite HD by lia; reflexivity.
Qed.

(* the choice at a non-kink neuron is irrelevant *)
Lemma dchoice_not_kink (D : nat -> R) (w : vec) (k : nat) :
  ~ is_kink (sigma net k) (preact net w k) ->
  dchoice D w k = slope_right (sigma net k) (preact net w k).
Proof. apply act_deriv_choice_not_kink. Qed.

Lemma dchoice_kink (D : nat -> R) (w : vec) (k : nat) :
  is_kink (sigma net k) (preact net w k) -> dchoice D w k = D k.
Proof. apply act_deriv_choice_kink. Qed.

(* without NS, the choice does not matter at all (THEORY.md section 6, "Zero
   adjoints") *)
Lemma not_NS_zbar_choice (D D' : nat -> R) (w : vec) (k : nat) :
  ~ NS D w -> zbar D' w k = zbar D w k.
Proof.
  intros Hns; apply zbar_compare; intros j Hj.
  destruct (classic (is_kink (sigma net j) (preact net w j))) as [Hk|Hk].
  - right; destruct (Req_dec (zbar D w j) 0) as [|Hz]; [assumption|].
    exfalso; apply Hns; exists j; split; [apply kink_neurons_spec; split; [lia | exact Hk] | exact Hz].
  - left; unfold dchoice; rewrite !act_deriv_choice_not_kink by exact Hk; reflexivity.
Qed.

Lemma not_NS_ad_choice (D D' : nat -> R) (w : vec) (p : nat) :
  ~ NS D w -> ad D' w p = ad D w p.
Proof.
  intros Hns; apply grad_compare; intros j Hj.
  destruct (classic (is_kink (sigma net j) (preact net w j))) as [Hk|Hk].
  - right; destruct (Req_dec (zbar D w j) 0) as [|Hz]; [assumption|].
    exfalso; apply Hns; exists j; split; [apply kink_neurons_spec; split; [lia | exact Hk] | exact Hz].
  - left; unfold dchoice; rewrite !act_deriv_choice_not_kink by exact Hk; reflexivity.
Qed.

End AD.

(** * Selection networks (FORMAL_PLAN.md, point 2) *)

(* a pattern s picks piece s k at neuron k; f_s is the network with sigma_k
   replaced by that piece *)
Definition select_net (net : network) (s : nat -> nat) : network := {|
  n_params := n_params net;
  n_input := n_input net;
  n_neurons := map (fun k => (tau net k, act_of_piece (sigma net k) (s k))) (seq 0 (n_size net));
  n_out := n_out net |}.

(* s is compatible with w: each chosen piece's closed interval contains y_k(w) *)
Definition compatible (net : network) (s : nat -> nat) (w : vec) : Prop :=
  forall k, (k < n_size net)%nat -> piece_at (sigma net k) (preact net w k) (s k).

(* the slopes of the pieces of s at the pre-activations of f_s *)
Definition piece_slopes (net : network) (s : nat -> nat) (w : vec) (k : nat) : R :=
  dpiece (sigma net k) (s k) (preact (select_net net s) w k).

Section Select.
Variables (net : network) (s : nat -> nat).

Lemma select_size : n_size (select_net net s) = n_size net.
Proof. unfold n_size; simpl; rewrite map_length, seq_length; reflexivity. Qed.

Lemma select_tau (k : nat) : tau (select_net net s) k = tau net k.
Proof.
  unfold tau at 1; simpl; destruct (Nat.lt_ge_cases k (n_size net)) as [Hk|Hk].
  - rewrite nth_map_seq by exact Hk; reflexivity.
  - unfold tau; rewrite !nth_overflow; [reflexivity | exact Hk |].
    rewrite map_length, seq_length; exact Hk.
Qed.

Lemma select_sigma (k : nat) : (k < n_size net)%nat ->
  sigma (select_net net s) k = act_of_piece (sigma net k) (s k).
Proof.
  intros Hk; unfold sigma at 1; simpl.
  rewrite nth_map_seq by exact Hk; reflexivity.
Qed.

(* AD on f_s is propagation with the piece slopes (whatever the choice) *)
Lemma select_ad (D : nat -> R) (w : vec) (p : nat) :
  ad (select_net net s) D w p = grad_sl (select_net net s) (piece_slopes net s w) w p.
Proof.
  unfold ad; apply grad_compare; intros j Hj; left.
  rewrite select_size in Hj; unfold dchoice, piece_slopes.
  rewrite select_sigma by exact Hj; apply act_of_piece_deriv.
Qed.

Section Compatible.
Variable w : vec.
Hypothesis Hs : compatible net s w.

Lemma select_zvals (n j : nat) : (n <= n_size net)%nat ->
  zvals (select_net net s) w n j = zvals net w n j.
Proof.
  revert j; induction n as [|m IH]; intros j Hn; [reflexivity|]; simpl.
  destruct (Nat.eq_dec j m); [|apply IH; lia].
  rewrite select_sigma, act_of_piece_eval by lia.
  rewrite select_tau, (eval_ext_neuron _ _ _ _ _ (fun i _ => IH i ltac:(lia))).
  apply piece_at_eval, Hs; lia.
Qed.

Lemma select_preact (k : nat) : (k < n_size net)%nat ->
  preact (select_net net s) w k = preact net w k.
Proof.
  intros Hk; unfold preact; rewrite select_tau.
  apply eval_ext_neuron; intros; apply select_zvals; lia.
Qed.

Lemma select_zvec (j : nat) : zvec (select_net net s) w j = zvec net w j.
Proof. unfold zvec; rewrite select_size; apply select_zvals; lia. Qed.

(* f_s(w) = f(w) *)
Lemma select_net_eval : net_eval (select_net net s) w = net_eval net w.
Proof.
  unfold net_eval; simpl; apply eval_ext_neuron; intros; apply select_zvec.
Qed.

Lemma select_ybars (sl : nat -> R) (m j : nat) :
  ybars_sl (select_net net s) sl w m j = ybars_sl net sl w m j.
Proof.
  revert j; induction m as [|m IH]; intros j; [reflexivity|]; simpl.
  rewrite select_size; destruct (Nat.eq_dec j (n_size net - S m)); [|apply IH].
  f_equal; unfold zbar_from; rewrite select_size; simpl.
  rewrite (eval_ext_neuron _ _ _ (zvec net w)) by (intros; apply select_zvec).
  f_equal; apply sum_list_map_ext; intros i _.
  rewrite IH, select_tau, (eval_ext_neuron _ _ _ (zvec net w)) by (intros; apply select_zvec).
  reflexivity.
Qed.

(* propagation on f_s at w is propagation on the network itself *)
Lemma select_grad (sl : nat -> R) (p : nat) :
  grad_sl (select_net net s) sl w p = grad_sl net sl w p.
Proof.
  unfold grad_sl, ybar_sl; rewrite select_size; simpl.
  rewrite (eval_ext_neuron _ _ _ (zvec net w)) by (intros; apply select_zvec).
  f_equal; apply sum_list_map_ext; intros i _.
  rewrite select_ybars, select_tau, (eval_ext_neuron _ _ _ (zvec net w))
    by (intros; apply select_zvec).
  reflexivity.
Qed.

Lemma select_zbar (sl : nat -> R) (k : nat) :
  zbar_sl (select_net net s) sl w k = zbar_sl net sl w k.
Proof.
  unfold zbar_sl, zbar_from, ybar_sl; rewrite select_size; simpl.
  rewrite (eval_ext_neuron _ _ _ (zvec net w)) by (intros; apply select_zvec).
  f_equal; apply sum_list_map_ext; intros i _.
  rewrite select_ybars, select_tau, (eval_ext_neuron _ _ _ (zvec net w))
    by (intros; apply select_zvec).
  reflexivity.
Qed.

(* FORMAL_PLAN lemma 5: with no kink neuron of non-zero adjoint, every
   compatible pattern's gradient propagation equals AD, for every choice *)
Lemma piece_slopes_compare (D : nat -> R) (j : nat) :
  (j < n_size net)%nat -> ~ is_kink (sigma net j) (preact net w j) ->
  piece_slopes net s w j = dchoice net D w j.
Proof.
  intros Hj Hk; unfold piece_slopes, dchoice; rewrite select_preact by exact Hj.
  apply piece_at_slope_not_kink; [apply Hs; exact Hj | exact Hk].
Qed.

Lemma adjoint_independent_of_choice (D : nat -> R) (p : nat) :
  ~ NS net D w -> grad_sl net (piece_slopes net s w) w p = ad net D w p.
Proof.
  intros Hns; apply grad_compare; intros j Hj.
  destruct (classic (is_kink (sigma net j) (preact net w j))) as [Hk|Hk].
  - right; destruct (Req_dec (zbar net D w j) 0) as [|Hz]; [assumption|].
    exfalso; apply Hns; exists j; split; [apply kink_neurons_spec; split; [lia | exact Hk] | exact Hz].
  - left; apply piece_slopes_compare; assumption.
Qed.

Lemma zbar_independent_of_choice (D : nat -> R) (k : nat) :
  ~ NS net D w -> zbar_sl net (piece_slopes net s w) w k = zbar net D w k.
Proof.
  intros Hns; apply zbar_compare; intros j Hj.
  destruct (classic (is_kink (sigma net j) (preact net w j))) as [Hk|Hk].
  - right; destruct (Req_dec (zbar net D w j) 0) as [|Hz]; [assumption|].
    exfalso; apply Hns; exists j; split; [apply kink_neurons_spec; split; [lia | exact Hk] | exact Hz].
  - left; apply piece_slopes_compare; [lia | exact Hk].
Qed.

(* grad f_s (w) (computed by AD on f_s) = AD_D f(w) when not NS(w) *)
Lemma select_ad_eq_ad (D D' : nat -> R) (p : nat) :
  ~ NS net D w -> ad (select_net net s) D' w p = ad net D w p.
Proof.
  intros Hns; rewrite select_ad, select_grad; apply adjoint_independent_of_choice, Hns.
Qed.

End Compatible.
End Select.

(** * The finitely many patterns at w *)

(* the pattern read off at w (left pieces) *)
Definition pattern_at (net : network) (w : vec) : nat -> nat :=
  fun k => left_piece (sigma net k) (preact net w k).

Definition extend_pattern (s : nat -> nat) (m i : nat) : nat -> nat :=
  fun k => if Nat.eq_dec k m then i else s k.

(* all patterns choosing, below n, the left or the right piece at y_k(w) *)
Fixpoint patterns_upto (net : network) (w : vec) (n : nat) : list (nat -> nat) :=
  match n with
  | O => [fun _ => O]
  | S m => flat_map (fun s =>
      [extend_pattern s m (left_piece (sigma net m) (preact net w m));
       extend_pattern s m (right_piece (sigma net m) (preact net w m))])
      (patterns_upto net w m)
  end.

Definition patterns (net : network) (w : vec) : list (nat -> nat) :=
  patterns_upto net w (n_size net).

Lemma pattern_at_compatible (net : network) (w : vec) : compatible net (pattern_at net w) w.
Proof. intros k _; left; reflexivity. Qed.

Lemma select_net_ext (net : network) (s s' : nat -> nat) :
  (forall k, (k < n_size net)%nat -> s k = s' k) -> select_net net s = select_net net s'.
Proof.
  intros H; unfold select_net; f_equal; apply map_ext_in; intros k Hk.
  apply in_seq in Hk; rewrite H by lia; reflexivity.
Qed.

Lemma patterns_upto_compatible (net : network) (w : vec) (n : nat) (s : nat -> nat) :
  In s (patterns_upto net w n) ->
  forall k, (k < n)%nat -> piece_at (sigma net k) (preact net w k) (s k).
Proof.
  revert s; induction n as [|m IH]; intros s Hs k Hk; [lia|].
  simpl in Hs; apply in_flat_map in Hs as [s0 [Hs0 Hs]].
  destruct Hs as [<-|[<-|[]]]; unfold extend_pattern;
    (destruct (Nat.eq_dec k m) as [->|Hne]; [|apply IH; [exact Hs0 | lia]]).
  - left; reflexivity.
  - right; reflexivity.
Qed.

Lemma patterns_compatible (net : network) (w : vec) (s : nat -> nat) :
  In s (patterns net w) -> compatible net s w.
Proof. intros Hs k Hk; exact (patterns_upto_compatible net w _ s Hs k Hk). Qed.

Lemma compatible_in_patterns_upto (net : network) (w : vec) (n : nat) (s : nat -> nat) :
  (forall k, (k < n)%nat -> piece_at (sigma net k) (preact net w k) (s k)) ->
  exists s', In s' (patterns_upto net w n) /\ forall k, (k < n)%nat -> s' k = s k.
Proof.
  induction n as [|m IH]; intros Hs.
  - exists (fun _ => O); split; [now left | intros; lia].
  - destruct IH as [s0 [Hin Heq]]; [intros; apply Hs; lia|].
    destruct (Hs m ltac:(lia)) as [Hm|Hm]; [exists (extend_pattern s0 m (left_piece (sigma net m) (preact net w m)))
                                           |exists (extend_pattern s0 m (right_piece (sigma net m) (preact net w m)))];
      (split; [apply in_flat_map; exists s0; split; [exact Hin | simpl; tauto] |]);
      intros k Hk; unfold extend_pattern; destruct (Nat.eq_dec k m) as [->|]; auto; apply Heq; lia.
Qed.

Lemma compatible_in_patterns (net : network) (w : vec) (s : nat -> nat) :
  compatible net s w -> exists s', In s' (patterns net w) /\ select_net net s' = select_net net s.
Proof.
  intros Hs; destruct (compatible_in_patterns_upto net w (n_size net) s Hs) as [s' [Hin Heq]].
  exists s'; split; [exact Hin | apply select_net_ext; exact Heq].
Qed.

(* combinatorial core of "selection_local": if the left pieces at w' are
   pieces at w, then f(w') = f_s(w') for one of the patterns at w *)
Lemma selection_at_nearby (net : network) (w w' : vec) :
  compatible net (pattern_at net w') w ->
  exists s, In s (patterns net w) /\ net_eval net w' = net_eval (select_net net s) w'.
Proof.
  intros Hc; destruct (compatible_in_patterns net w _ Hc) as [s [Hin Heq]].
  exists s; split; [exact Hin|]; rewrite Heq.
  symmetry; apply select_net_eval, pattern_at_compatible.
Qed.

(* pre-activations close to those at w give such a w' *)
Lemma pattern_near (net : network) (w : vec) :
  exists d, 0 < d /\ forall w',
    (forall k, (k < n_size net)%nat -> Rabs (preact net w' k - preact net w k) < d) ->
    compatible net (pattern_at net w') w.
Proof.
  assert (H : forall n, exists d, 0 < d /\ forall w',
    (forall k, (k < n)%nat -> Rabs (preact net w' k - preact net w k) < d) ->
    forall k, (k < n)%nat -> piece_at (sigma net k) (preact net w k) (pattern_at net w' k)).
  { induction n as [|m [d [Hd IH]]].
    - exists 1; split; [lra | intros; lia].
    - destruct (left_piece_near (sigma net m) (preact net w m)) as [dm [Hdm Hm]].
      exists (Rmin d dm); split; [apply Rmin_glb_lt; assumption|].
      intros w' Hw' k Hk; generalize (Rmin_l d dm) (Rmin_r d dm); intros.
      destruct (Nat.eq_dec k m) as [->|Hne].
      + apply Hm; specialize (Hw' m ltac:(lia)); lra.
      + apply IH; [intros i Hi; specialize (Hw' i ltac:(lia)); lra | lia]. }
  destruct (H (n_size net)) as [d [Hd Hn]]; exists d; split; [exact Hd|].
  intros w' Hw' k Hk; exact (Hn w' Hw' k Hk).
Qed.

(** * Forward mode (tangents) equals reverse mode *)

Definition sumn (n : nat) (f : nat -> R) : R := sum_list (map f (seq 0 n)).

Lemma sum_list_app (l1 l2 : list R) : sum_list (l1 ++ l2) = sum_list l1 + sum_list l2.
Proof. induction l1 as [|a l1 IH]; unfold sum_list in *; simpl; [ring | rewrite IH; ring]. Qed.

Lemma sumn_S (n : nat) (f : nat -> R) : sumn (S n) f = sumn n f + f n.
Proof.
  unfold sumn; rewrite seq_S, map_app, sum_list_app; unfold sum_list; simpl; ring.
Qed.

Lemma sumn_ext (n : nat) (f g : nat -> R) :
  (forall i, (i < n)%nat -> f i = g i) -> sumn n f = sumn n g.
Proof.
  induction n as [|n IH]; intros H; [reflexivity|].
  rewrite !sumn_S, IH; [rewrite H by lia; reflexivity | intros; apply H; lia].
Qed.

Lemma sumn_plus (n : nat) (f g : nat -> R) :
  sumn n (fun i => f i + g i) = sumn n f + sumn n g.
Proof. induction n as [|n IH]; [unfold sumn, sum_list; simpl; ring|]; rewrite !sumn_S, IH; ring. Qed.

Lemma sumn_minus (n : nat) (f g : nat -> R) :
  sumn n (fun i => f i - g i) = sumn n f - sumn n g.
Proof. induction n as [|n IH]; [unfold sumn, sum_list; simpl; ring|]; rewrite !sumn_S, IH; ring. Qed.

Lemma sumn_scal (n : nat) (c : R) (f : nat -> R) :
  sumn n (fun i => c * f i) = c * sumn n f.
Proof. induction n as [|n IH]; [unfold sumn, sum_list; simpl; ring|]; rewrite !sumn_S, IH; ring. Qed.

Lemma sumn_swap (n m : nat) (f : nat -> nat -> R) :
  sumn n (fun i => sumn m (fun j => f i j)) = sumn m (fun j => sumn n (fun i => f i j)).
Proof.
  induction n as [|n IH].
  - symmetry; transitivity (sumn m (fun _ => 0 * 0));
      [apply sumn_ext; intros; unfold sumn, sum_list; simpl; ring|].
    rewrite sumn_scal; change (sumn 0 (fun i => sumn m (fun j => f i j))) with 0; ring.
  - rewrite sumn_S, IH, <- sumn_plus; apply sumn_ext; intros; rewrite sumn_S; reflexivity.
Qed.

Lemma sumn_zero_above (k n : nat) (f : nat -> R) :
  (k <= n)%nat -> (forall i, (k <= i < n)%nat -> f i = 0) -> sumn n f = sumn k f.
Proof.
  induction n as [|n IH]; intros Hk H.
  - assert (k = 0%nat) as -> by lia; reflexivity.
  - destruct (Nat.eq_dec k (S n)) as [->|Hne]; [reflexivity|].
    rewrite sumn_S, H by lia; rewrite IH; [ring | lia | intros; apply H; lia].
Qed.

Lemma sumn_seq (a b : nat) (f : nat -> R) :
  sumn (a + b) f = sumn a f + sum_list (map f (seq a b)).
Proof. unfold sumn; rewrite seq_app, map_app, sum_list_app; reflexivity. Qed.

Lemma dot_sumn (W : nat) (g h : vec) : dot W g h = sumn W (fun i => g i * h i).
Proof. reflexivity. Qed.

Section Forward.
Variable net : network.

(* d tau_k / d z_i and d tau_k / d w_p at w *)
Definition dz_coef (w : vec) (k i : nat) : R :=
  eval (n_input net) w (zvec net w) (dneuron i (tau net k)).
Definition dw_coef (w : vec) (k p : nat) : R :=
  eval (n_input net) w (zvec net w) (dparam p (tau net k)).

(* the direct part of the tangent of y_k in direction h *)
Definition tau_dir (w h : vec) (k : nat) : R :=
  sumn (n_params net) (fun p => h p * dw_coef w k p).

(* tangents zdot_j of the first n neurons, slopes sl *)
Fixpoint zdots (sl : nat -> R) (w h : vec) (n : nat) : nat -> R :=
  match n with
  | O => fun _ => 0
  | S m => let zd := zdots sl w h m in
      fun j => if Nat.eq_dec j m
               then sl m * (tau_dir w h m + sumn m (fun i => zd i * dz_coef w m i))
               else zd j
  end.

Definition zdot (sl : nat -> R) (w h : vec) (j : nat) : R := zdots sl w h (n_size net) j.
Definition ydot (sl : nat -> R) (w h : vec) (k : nat) : R :=
  tau_dir w h k + sumn (n_size net) (fun i => zdot sl w h i * dz_coef w k i).

(* the tangent of f in direction h *)
Definition fdot (sl : nat -> R) (w h : vec) : R :=
  sumn (n_params net) (fun p => h p * eval (n_input net) w (zvec net w) (dparam p (n_out net))) +
  sumn (n_size net) (fun j => zdot sl w h j * eval (n_input net) w (zvec net w) (dneuron j (n_out net))).

Hypothesis Hwf : wf net.

Lemma dz_coef_above (w : vec) (k i : nat) :
  (k < n_size net)%nat -> (k <= i)%nat -> dz_coef w k i = 0.
Proof.
  intros Hk Hi; apply dneuron_not_occurs; intros Ho.
  destruct (proj1 Hwf k Hk) as [Hb _]; specialize (Hb i Ho); lia.
Qed.

Lemma zdots_lt (sl : nat -> R) (w h : vec) (n j : nat) :
  (j < n)%nat -> zdots sl w h n j = zdots sl w h (S j) j.
Proof.
  induction n as [|m IH]; intros Hj; [lia|].
  destruct (Nat.eq_dec j m) as [->|Hne]; [reflexivity|].
  simpl; destruct (Nat.eq_dec j m); [lia|]; apply IH; lia.
Qed.

Lemma zdot_eq (sl : nat -> R) (w h : vec) (k : nat) :
  (k < n_size net)%nat -> zdot sl w h k = sl k * ydot sl w h k.
Proof.
  intros Hk; unfold zdot, ydot; rewrite zdots_lt by exact Hk; simpl.
  destruct (Nat.eq_dec k k) as [_|]; [|congruence]. f_equal; f_equal.
  rewrite (sumn_zero_above k (n_size net));
    [| lia | intros; rewrite dz_coef_above by lia; ring].
  apply sumn_ext; intros i Hi; unfold zdot.
  rewrite (zdots_lt sl w h k), (zdots_lt sl w h (n_size net)) by lia; reflexivity.
Qed.

Lemma zbar_full (sl : nat -> R) (w : vec) (k : nat) :
  (k < n_size net)%nat ->
  zbar_sl net sl w k = eval (n_input net) w (zvec net w) (dneuron k (n_out net)) +
    sumn (n_size net) (fun j => ybar_sl net sl w j * dz_coef w j k).
Proof.
  intros Hk; rewrite zbar_sl_eq; f_equal.
  replace (n_size net) with (S k + (n_size net - S k))%nat at 2 by lia.
  rewrite sumn_seq.
  replace (sumn (S k) _) with 0; [unfold dz_coef; ring|].
  symmetry; transitivity (sumn (S k) (fun _ => 0 * 0));
    [apply sumn_ext; intros j Hj; rewrite dz_coef_above by lia; ring|].
  rewrite sumn_scal; ring.
Qed.

(* forward mode = reverse mode: the tangent of f in direction h is the
   propagated gradient dotted with h *)
Theorem forward_reverse (sl : nat -> R) (w h : vec) :
  fdot sl w h = dot (n_params net) (grad_sl net sl w) h.
Proof.
  rewrite dot_sumn; unfold fdot, grad_sl.
  transitivity (sumn (n_params net) (fun p => h p * eval (n_input net) w (zvec net w) (dparam p (n_out net)))
                + sumn (n_size net) (fun k => ybar_sl net sl w k * tau_dir w h k)).
  2:{ transitivity (sumn (n_params net) (fun p =>
          h p * eval (n_input net) w (zvec net w) (dparam p (n_out net)) +
          sumn (n_size net) (fun k => ybar_sl net sl w k * (h p * dw_coef w k p)))).
      - rewrite sumn_plus; f_equal; rewrite sumn_swap; apply sumn_ext; intros k _.
        unfold tau_dir; rewrite <- sumn_scal; reflexivity.
      - apply sumn_ext; intros p _.
        transitivity (h p * eval (n_input net) w (zvec net w) (dparam p (n_out net)) +
                      h p * sumn (n_size net) (fun k => ybar_sl net sl w k * dw_coef w k p)).
        + f_equal; rewrite <- sumn_scal; apply sumn_ext; intros; ring.
        + unfold sumn, dw_coef; ring. }
  f_equal.
  (* sum_j zdot_j c_j = sum_k ybar_k tau_dir_k *)
  transitivity (sumn (n_size net) (fun j => ybar_sl net sl w j * ydot sl w h j) -
                sumn (n_size net) (fun i => ybar_sl net sl w i * (ydot sl w h i - tau_dir w h i))).
  - transitivity (sumn (n_size net) (fun j => zdot sl w h j * zbar_sl net sl w j -
       sumn (n_size net) (fun i => zdot sl w h j * (ybar_sl net sl w i * dz_coef w i j)))).
    + apply sumn_ext; intros j Hj; rewrite zbar_full by exact Hj.
      rewrite sumn_scal; ring.
    + rewrite sumn_minus, sumn_swap; f_equal.
      * apply sumn_ext; intros i Hi; rewrite zdot_eq, ybar_sl_eq by exact Hi; ring.
      * apply sumn_ext; intros i Hi.
        unfold ydot at 1; replace (tau_dir w h i + _ - tau_dir w h i)
          with (sumn (n_size net) (fun j => zdot sl w h j * dz_coef w i j)) by ring.
        rewrite <- sumn_scal; apply sumn_ext; intros j _; ring.
  - rewrite <- sumn_minus; apply sumn_ext; intros; ring.
Qed.

(* coordinate p: the tangent along e_p is the propagated gradient's p-th entry *)
Corollary forward_reverse_unit (sl : nat -> R) (w : vec) (p : nat) :
  (p < n_params net)%nat -> fdot sl w (unit_vec p) = grad_sl net sl w p.
Proof.
  intros Hp; rewrite forward_reverse, dot_sumn.
  rewrite (sumn_zero_above (S p) (n_params net)); [| lia |].
  2:{ intros i Hi; unfold unit_vec; destruct (Nat.eq_dec i p); [lia | ring]. }
  rewrite sumn_S, (sumn_ext p _ (fun _ => 0 * 0)).
  - rewrite sumn_scal; unfold unit_vec; destruct (Nat.eq_dec p p); [ring | congruence].
  - intros i Hi; unfold unit_vec; destruct (Nat.eq_dec i p); [lia | ring].
Qed.

End Forward.

(** * AD is affine in each single choice (FORMAL_PLAN.md, point 9) *)

Lemma sum_list_map_affine {A : Type} (f g h : A -> R) (t : R) (l : list A) :
  (forall a, In a l -> f a = (1 - t) * g a + t * h a) ->
  sum_list (map f l) = (1 - t) * sum_list (map g l) + t * sum_list (map h l).
Proof.
  induction l as [|a l IH]; intros H; unfold sum_list in *; simpl; [ring|].
  rewrite H, IH; [ring | intros b Hb; apply H; now right | now left].
Qed.

Section Affine.
Variable net : network.

Lemma zbar_from_affine (w : vec) (yt ya yb : nat -> R) (t : R) (k : nat) :
  (forall j, (k < j < n_size net)%nat -> yt j = (1 - t) * ya j + t * yb j) ->
  zbar_from net w yt k = (1 - t) * zbar_from net w ya k + t * zbar_from net w yb k.
Proof.
  intros H; unfold zbar_from.
  set (A := fun j => eval (n_input net) w (zvec net w) (dneuron k (tau net j))).
  rewrite (sum_list_map_affine _ (fun j => ya j * A j) (fun j => yb j * A j) t).
  - unfold A; cbv beta; ring.
  - intros j Hj; apply in_seq in Hj; unfold A; rewrite H by lia; ring.
Qed.

(* slt is sla = slb except at neuron k, where it is their combination *)
Lemma ybars_affine (sla slb slt : nat -> R) (w : vec) (t : R) (k : nat) :
  (forall j, j <> k -> sla j = slt j /\ slb j = slt j) ->
  slt k = (1 - t) * sla k + t * slb k ->
  forall m j, (m <= n_size net)%nat ->
    ybars_sl net slt w m j = (1 - t) * ybars_sl net sla w m j + t * ybars_sl net slb w m j.
Proof.
  intros Hj Hk m; induction m as [|m IH]; intros j Hm; simpl; [ring|].
  destruct (Nat.eq_dec j (n_size net - S m)) as [Hjm|]; [|apply IH; lia].
  rewrite (zbar_from_affine w _ (ybars_sl net sla w m) (ybars_sl net slb w m) t)
    by (intros; apply IH; lia).
  destruct (Nat.eq_dec j k) as [->|Hjk].
  - assert (Hab : zbar_from net w (ybars_sl net sla w m) k = zbar_from net w (ybars_sl net slb w m) k).
    { apply zbar_from_ext; intros i Hi.
      rewrite (ybars_compare net sla slt w (S k)), (ybars_compare net slb slt w (S k));
        [reflexivity | | lia | lia | | lia | lia];
        intros i' Hi'; left; apply Hj; lia. }
    rewrite Hab, Hk; ring.
  - destruct (Hj j Hjk) as [-> ->]; ring.
Qed.

Lemma grad_affine (sla slb slt : nat -> R) (w : vec) (t : R) (k p : nat) :
  (forall j, j <> k -> sla j = slt j /\ slb j = slt j) ->
  slt k = (1 - t) * sla k + t * slb k ->
  grad_sl net slt w p = (1 - t) * grad_sl net sla w p + t * grad_sl net slb w p.
Proof.
  intros Hj Hk; unfold grad_sl.
  set (B := fun i => eval (n_input net) w (zvec net w) (dparam p (tau net i))).
  rewrite (sum_list_map_affine _ (fun i => ybar_sl net sla w i * B i) (fun i => ybar_sl net slb w i * B i) t).
  - unfold B; cbv beta; ring.
  - intros i _; unfold ybar_sl, B; rewrite (ybars_affine sla slb slt w t k Hj Hk) by lia; ring.
Qed.

(* AD_D f(w) is affine in the choice D k at a single neuron k *)
Theorem ad_affine_in_choice (D : nat -> R) (w : vec) (k : nat) (a b t : R) (p : nat) :
  ad net (upd D k ((1 - t) * a + t * b)) w p =
  (1 - t) * ad net (upd D k a) w p + t * ad net (upd D k b) w p.
Proof.
  apply (grad_affine _ _ _ w t k).
  - intros j Hjk; unfold dchoice, upd; destruct (Nat.eq_dec j k); [congruence|]; split; reflexivity.
  - unfold dchoice, upd; destruct (Nat.eq_dec k k); [|congruence].
    unfold act_deriv_choice; destruct (in_dec Req_EM_T (preact net w k) (kinks (sigma net k)));
      [reflexivity | ring].
Qed.

End Affine.

(** * T5(a): AD can be wrong without bias parameters *)

(* input x = 1; z_0 = a*x (identity), y_1 = v_1 z_0, y_2 = v_2 z_0, relu on
   both, f = z_1 - z_2; parameters (a, v_1, v_2) = (w 0, w 1, w 2) *)
Definition T5a : network := {|
  n_params := 3;
  n_input := fun _ => 1;
  n_neurons := [ (EMul (EParam 0) (EInput 0), act_id);
                 (EMul (EParam 1) (ENeuron 0), relu);
                 (EMul (EParam 2) (ENeuron 0), relu) ];
  n_out := EAdd (ENeuron 1) (EMul (EConst (-1)) (ENeuron 2)) |}.

Definition T5a_w0 : vec := fun i => match i with 1%nat => 1 | 2%nat => -1 | _ => 0 end.

(* PyTorch's relu'(0) = 0 (the choice is only used at kinks) *)
Definition T5a_D : nat -> R := fun _ => 0.

Lemma T5a_wf : wf T5a.
Proof.
  unfold wf, neurons_below, params_below, n_size; simpl.
  split; [|split].
  - intros k Hk; destruct k as [|[|[|k]]]; simpl; split; intros j Hj; simpl in Hj; lia.
  - intros j Hj; simpl in Hj; lia.
  - intros q Hq; simpl in Hq; lia.
Qed.

Ltac T5a_simpl := unfold preact, post, net_eval, zvec, tau, sigma, n_size;
  cbn [T5a n_neurons n_input n_out length nth fst snd eval].

Lemma T5a_sigma0 : sigma T5a 0 = act_id. Proof. reflexivity. Qed.
Lemma T5a_sigma1 : sigma T5a 1 = relu. Proof. reflexivity. Qed.
Lemma T5a_sigma2 : sigma T5a 2 = relu. Proof. reflexivity. Qed.

(* the outputs along the line w0 + t e_0 (t = 0 gives w0 itself) *)
Lemma T5a_post0 (t : R) : post T5a (upd T5a_w0 0 t) 0 = t.
Proof. unfold post; rewrite T5a_sigma0, act_id_eval; T5a_simpl; unfold upd; simpl; ring. Qed.

Lemma T5a_preact1 (t : R) : preact T5a (upd T5a_w0 0 t) 1 = t.
Proof.
  T5a_simpl; rewrite zvals_lt by lia; fold (post T5a (upd T5a_w0 0 t) 0).
  rewrite T5a_post0; unfold upd; simpl; ring.
Qed.

Lemma T5a_preact2 (t : R) : preact T5a (upd T5a_w0 0 t) 2 = - t.
Proof.
  T5a_simpl; rewrite zvals_lt by lia; fold (post T5a (upd T5a_w0 0 t) 0).
  rewrite T5a_post0; unfold upd; simpl; ring.
Qed.

Lemma T5a_w0_upd (i : nat) : upd T5a_w0 0 0 i = T5a_w0 i.
Proof. unfold upd; destruct (Nat.eq_dec i 0) as [->|]; reflexivity. Qed.

Lemma T5a_preact_w0 (k : nat) : (1 <= k < 3)%nat -> preact T5a T5a_w0 k = 0.
Proof.
  intros Hk; rewrite (preact_ext T5a T5a_w0 (upd T5a_w0 0 0)) by (intros; symmetry; apply T5a_w0_upd).
  destruct k as [|[|[|k]]]; try lia; [rewrite T5a_preact1 | rewrite T5a_preact2]; ring.
Qed.

Lemma T5a_ad_zero (p : nat) : ad T5a T5a_D T5a_w0 p = 0.
Proof.
  assert (Hd : forall k, (1 <= k)%nat -> (k < 3)%nat -> dchoice T5a T5a_D T5a_w0 k = 0).
  { intros k H1 H3; unfold dchoice.
    rewrite T5a_preact_w0 by lia.
    destruct k as [|[|[|k]]]; try lia; apply relu_deriv_choice_0. }
  assert (Hy12 : forall k, (1 <= k)%nat -> (k < 3)%nat -> ybar T5a T5a_D T5a_w0 k = 0).
  { intros k H1 H3; rewrite ybar_eq, Hd by (auto; unfold n_size; simpl; lia); ring. }
  assert (Hy0 : ybar T5a T5a_D T5a_w0 0 = 0).
  { rewrite ybar_eq by (unfold n_size; simpl; lia).
    rewrite zbar_eq; unfold n_size; simpl.
    rewrite !Hy12 by lia; ring. }
  rewrite ad_eq, dparam_not_occurs by (simpl; lia).
  rewrite sum_list_map_zero; [ring|].
  intros k Hk; apply in_seq in Hk; unfold n_size in Hk; simpl in Hk.
  destruct k as [|k]; [rewrite Hy0 | rewrite Hy12 by lia]; ring.
Qed.

(* f(a, 1, -1) = relu(a) - relu(-a) = a: f is differentiable in a with df/da = 1 at
   a = 0, while AD above reports 0 *)
Lemma T5a_eval_along_a (t : R) : net_eval T5a (upd T5a_w0 0 t) = t.
Proof.
  T5a_simpl; rewrite !zvals_lt by lia; unfold post.
  rewrite T5a_preact1, T5a_preact2, T5a_sigma1, T5a_sigma2, !relu_eval.
  unfold Rmax; repeat destruct Rle_dec; lra.
Qed.
